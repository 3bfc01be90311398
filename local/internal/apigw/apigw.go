// Package apigw stands in for API Gateway's HTTP API and its JWT authorizer:
// it routes requests by the template's HttpApi events, checks bearer tokens,
// builds the payload format 2.0 event and invokes the function through the
// same emulator pools Step Functions uses.
package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/internal/rie"
	"github.com/devplatform/account-migration/local/jwtlocal"
)

// MaxBody is API Gateway's HTTP API payload limit.
const MaxBody = 10 * 1024 * 1024

// Invoker runs a function by name.
type Invoker interface {
	Invoke(ctx context.Context, function, requestID string, payload []byte) (*rie.Result, error)
}

// Server is the local HTTP API. It answers 503 STARTING until SetReady.
type Server struct {
	routes  router
	auth    *jwtlocal.Authority
	invoker Invoker
	ready   atomic.Bool
	dev     atomic.Pointer[[]DevAccount] // the console's development sign-in (devsignin.go)
	limits  atomic.Pointer[limiter]      // the stage's throttling (throttle.go)
}

// New serves routes, verifying tokens with auth and invoking through inv.
func New(routes []cfn.Route, auth *jwtlocal.Authority, inv Invoker) *Server {
	return &Server{routes: newRouter(routes), auth: auth, invoker: inv}
}

// SetReady opens the API once everything is deployed and seeded.
func (s *Server) SetReady() { s.ready.Store(true) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	requestID := newRequestID()
	w.Header().Set("apigw-requestid", requestID)

	if !s.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, codeStarting, "the local stack is still starting", requestID)
		return
	}
	if s.serveDevSignIn(w, r, requestID) {
		return
	}
	rt, params := s.routes.find(r.Method, r.URL.EscapedPath())
	if rt == nil {
		writeError(w, http.StatusNotFound, codeRouteNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), requestID)
		return
	}
	// Throttling comes before the authorizer, as in API Gateway.
	if l := s.limits.Load(); l != nil && !l.allow(throttleKey(rt)) {
		writeThrottled(w)
		return
	}

	var verified *jwtlocal.Verified
	if rt.Auth {
		raw, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "missing bearer token", requestID)
			return
		}
		v, err := s.auth.Verify(raw)
		if err != nil {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "invalid token: "+err.Error(), requestID)
			return
		}
		if len(rt.Scopes) > 0 && !anyScope(v.Scopes, rt.Scopes) {
			writeError(w, http.StatusForbidden, codeForbidden, "token lacks scope "+strings.Join(rt.Scopes, " or "), requestID)
			return
		}
		verified = v
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, codePayloadTooLarge, fmt.Sprintf("request body over %d bytes", MaxBody), requestID)
			return
		}
		writeError(w, http.StatusBadRequest, codeBadRequest, "cannot read body: "+err.Error(), requestID)
		return
	}

	event := buildEvent(r, rt, params, body, verified, requestID, now)
	payload, err := json.Marshal(event)
	if err != nil {
		writeError(w, http.StatusInternalServerError, codeInternal, "Internal Server Error", requestID)
		return
	}
	// The Lambda invocation has its own id, as in AWS: the runtime puts it
	// in URL paths, so it must not be the API's id.
	res, err := s.invoker.Invoke(r.Context(), rt.Function, rie.NewRequestID(), payload)
	if err != nil || res.FunctionError != "" {
		if err != nil {
			slog.Error("http api: invoke", "route", rt.RouteKey(), "requestId", requestID, "err", err)
		} else {
			slog.Warn("http api: function error", "route", rt.RouteKey(), "requestId", requestID, "payload", string(res.Payload))
		}
		writeError(w, http.StatusBadGateway, codeInternal, "Internal Server Error", requestID)
		return
	}
	if err := writeResponse(w, res.Payload, requestID); err != nil {
		slog.Error("http api: bad function response", "route", rt.RouteKey(), "requestId", requestID, "err", err)
		writeError(w, http.StatusBadGateway, codeInternal, "Internal Server Error", requestID)
	}
}

// buildEvent fills the payload format 2.0 event as API Gateway does.
// Kept whole (105 lines): one event filled field by field as API Gateway does.
func buildEvent(r *http.Request, rt *route, params map[string]string, body []byte, v *jwtlocal.Verified, requestID string, now time.Time) events.APIGatewayV2HTTPRequest {
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	host := r.Host
	hostOnly := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostOnly = h
	}
	_, listenPort, _ := net.SplitHostPort(host)

	headers := map[string]string{}
	names := map[string][]string{}
	for name, values := range r.Header {
		names[strings.ToLower(name)] = append(names[strings.ToLower(name)], values...)
	}
	var cookies []string
	for name, values := range names {
		if name == "cookie" {
			// Format 2.0 moves cookies to their own field.
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(values, ",")
	}
	headers["host"] = host
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-proto"] = "http"
	if listenPort != "" {
		headers["x-forwarded-port"] = listenPort
	}
	if r.ContentLength > 0 {
		headers["content-length"] = fmt.Sprint(r.ContentLength)
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		if values, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(values) > 0 {
			query = map[string]string{}
			for k, vs := range values {
				query[k] = strings.Join(vs, ",")
			}
		}
	}

	routeKey := rt.RouteKey()
	if rt.catchAll {
		routeKey = "$default"
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    cfn.AccountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        "local",
			DomainName:   hostOnly,
			DomainPrefix: strings.SplitN(hostOnly, ".", 2)[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	if v != nil {
		claims := map[string]string{}
		for k, val := range v.Claims {
			if s, ok := val.(string); ok {
				claims[k] = s
				continue
			}
			b, _ := json.Marshal(val)
			claims[k] = string(b)
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: v.Scopes},
		}
	}
	return ev
}

// writeResponse applies a format 2.0 response. A JSON answer without
// statusCode is, as in API Gateway, a 200 application/json body.
func writeResponse(w http.ResponseWriter, payload []byte, requestID string) error {
	var probe map[string]json.RawMessage
	structured := json.Unmarshal(payload, &probe) == nil && probe["statusCode"] != nil
	if !structured {
		if !json.Valid(payload) {
			return errors.New("function answer is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		if w.Header().Get("x-request-id") == "" {
			w.Header().Set("x-request-id", requestID)
		}
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(payload)
		return err
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return err
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("statusCode %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("body: %w", err)
		}
		body = b
	}
	h := w.Header()
	for _, k := range sortedKeys(resp.MultiValueHeaders) {
		for _, v := range resp.MultiValueHeaders[k] {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("x-request-id") == "" {
		h.Set("x-request-id", requestID)
	}
	w.WriteHeader(resp.StatusCode)
	_, err := w.Write(body)
	return err
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeError answers in the API's error format (docs/CONTRACT.md §2).
func writeError(w http.ResponseWriter, status int, code, msg, requestID string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-request-id", requestID)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]string{"code": code, "message": msg, "requestId": requestID},
	})
}

// bearer extracts the token; like API Gateway it also takes a bare token.
func bearer(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", false
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	return h, h != ""
}

// anyScope: API Gateway lets a request through if the token has any one of
// the route's scopes.
func anyScope(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

// newRequestID mimics API Gateway's short request ids, in the URL-safe
// alphabet so the id can be used anywhere.
func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
