package apigw

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/internal/rie"
	"github.com/devplatform/account-migration/local/jwtlocal"
)

// fakeInvoker records events and answers like a handler would.
type fakeInvoker struct {
	mu     sync.Mutex
	last   events.APIGatewayV2HTTPRequest
	answer func(ev events.APIGatewayV2HTTPRequest) *rie.Result
}

func (f *fakeInvoker) Invoke(_ context.Context, function, _ string, payload []byte) (*rie.Result, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.last = ev
	f.mu.Unlock()
	if f.answer != nil {
		return f.answer(ev), nil
	}
	b, _ := json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"function":"` + function + `"}`,
	})
	return &rie.Result{Payload: b}, nil
}

// setup serves the real template's routes.
func setup(t *testing.T) (*httptest.Server, *jwtlocal.Authority, *fakeInvoker) {
	t.Helper()
	tpl, err := cfn.Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	params, err := tpl.ParameterValues(nil)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := cfn.NewResolver(tpl, params).Routes()
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	auth := &jwtlocal.Authority{Key: key, Issuer: jwtlocal.Issuer, Audience: params["JwtAudience"]}
	inv := &fakeInvoker{}
	s := New(routes, auth, inv)
	s.SetReady()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, auth, inv
}

func do(t *testing.T, method, url, token string, body io.Reader) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header, out
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWT(t *testing.T) {
	srv, auth, _ := setup(t)
	now := time.Now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": auth.Issuer, "aud": auth.Audience, "sub": "ma-1001", "platform": "microapp",
			"login": "alice@example.com", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"scope": jwtlocal.DeveloperScope,
		}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := base()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&auth.Key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	minted, err := auth.Mint("microapp", "ma-1001", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := auth.Mint("microapp", "ma-1001", "alice@example.com", "migration:ops")

	cases := []struct {
		name   string
		path   string
		token  string
		status int
		code   string
	}{
		{"minted", "/v1/plan", minted, 200, ""},
		{"valid", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, base()), 200, ""},
		{"no token", "/v1/plan", "", 401, "UNAUTHORIZED"},
		{"garbage", "/v1/plan", "not.a.jwt", 401, "UNAUTHORIZED"},
		{"no developer scope", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("scope", nil)), 403, "FORBIDDEN"},
		{"expired", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("exp", now.Add(-time.Minute).Unix())), 401, "UNAUTHORIZED"},
		{"no exp", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("exp", nil)), 401, "UNAUTHORIZED"},
		{"nbf in the future", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("nbf", now.Add(time.Minute).Unix())), 401, "UNAUTHORIZED"},
		{"iat in the future", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("iat", now.Add(time.Minute).Unix())), 401, "UNAUTHORIZED"},
		{"nbf within leeway", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("nbf", now.Add(2*time.Second).Unix())), 200, ""},
		{"wrong issuer", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("iss", "https://login.example.com/")), 401, "UNAUTHORIZED"},
		{"wrong audience", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("aud", "someone-else")), 401, "UNAUTHORIZED"},
		{"audience list containing ours", "/v1/plan", sign(t, jwt.SigningMethodRS256, auth.Key, with("aud", []string{"x", auth.Audience})), 200, ""},
		{"alg none", "/v1/plan", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, base()), 401, "UNAUTHORIZED"},
		{"HS256 with the public key", "/v1/plan", sign(t, jwt.SigningMethodHS256, pubPEM, base()), 401, "UNAUTHORIZED"},
		{"forged signature", "/v1/plan", sign(t, jwt.SigningMethodRS256, other, base()), 401, "UNAUTHORIZED"},
		{"RS512 with our key", "/v1/plan", sign(t, jwt.SigningMethodRS512, auth.Key, base()), 401, "UNAUTHORIZED"},
		{"scoped route without scope", "/v1/ops/accounts/microapp/ma-1001/migration", minted, 403, "FORBIDDEN"},
		{"scoped route with scope", "/v1/ops/accounts/microapp/ma-1001/migration", ops, 200, ""},
		{"healthz needs no token", "/healthz", "", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := do(t, http.MethodGet, srv.URL+c.path, c.token, nil)
			if status != c.status {
				t.Fatalf("status %d, want %d (%v)", status, c.status, body)
			}
			if h.Get("apigw-requestid") == "" || h.Get("x-request-id") == "" {
				t.Errorf("request id headers missing: %v", h)
			}
			if c.code != "" {
				e, _ := body["error"].(map[string]any)
				if e["code"] != c.code || e["requestId"] == "" || e["message"] == "" {
					t.Errorf("error body %v", body)
				}
			}
		})
	}
}

func TestEventAndResponse(t *testing.T) {
	srv, auth, inv := setup(t)
	tok, _ := auth.Mint("microapp", "ma-1001", "alice@example.com", "a:b", "migration:ops")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/migrations/m%2F1/batches/b-2/commit?x=1&x=2&y=%20z", strings.NewReader(`{"confirm":true}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	req.Header.Set("Cookie", "c1=v1; c2=v2")
	req.Header.Set("Idempotency-Key", "k-1")
	inv.answer = func(ev events.APIGatewayV2HTTPRequest) *rie.Result {
		b, _ := json.Marshal(events.APIGatewayV2HTTPResponse{
			StatusCode:        202,
			Headers:           map[string]string{"content-type": "application/json"},
			MultiValueHeaders: map[string][]string{"x-m": {"1", "2"}},
			Cookies:           []string{"s=1; Path=/"},
			Body:              "e30=",
			IsBase64Encoded:   true,
		})
		return &rie.Result{Payload: b}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(b) != "{}" || resp.Header.Get("Set-Cookie") != "s=1; Path=/" || len(resp.Header.Values("x-m")) != 2 {
		t.Fatalf("response %d %q %v", resp.StatusCode, b, resp.Header)
	}
	ev := inv.last
	checks := map[string][2]any{
		"version":      {ev.Version, "2.0"},
		"routeKey":     {ev.RouteKey, "POST /v1/migrations/{migrationId}/batches/{batchId}/commit"},
		"ctx.routeKey": {ev.RequestContext.RouteKey, ev.RouteKey},
		"rawQuery":     {ev.RawQueryString, "x=1&x=2&y=%20z"},
		"query x":      {ev.QueryStringParameters["x"], "1,2"},
		"query y":      {ev.QueryStringParameters["y"], " z"},
		"param m":      {ev.PathParameters["migrationId"], "m/1"},
		"param b":      {ev.PathParameters["batchId"], "b-2"},
		"multi":        {ev.Headers["x-multi"], "a,b"},
		"idem":         {ev.Headers["idempotency-key"], "k-1"},
		"cookie hdr":   {ev.Headers["cookie"], ""},
		"body":         {ev.Body, `{"confirm":true}`},
		"stage":        {ev.RequestContext.Stage, "$default"},
		"account":      {ev.RequestContext.AccountID, "123456789012"},
		"method":       {ev.RequestContext.HTTP.Method, "POST"},
		"source ip":    {ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		"sub":          {ev.RequestContext.Authorizer.JWT.Claims["sub"], "ma-1001"},
		"platform":     {ev.RequestContext.Authorizer.JWT.Claims["platform"], "microapp"},
		"scope":        {ev.RequestContext.Authorizer.JWT.Claims["scope"], "migration:developer a:b migration:ops"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if len(ev.Cookies) != 2 || ev.Cookies[0] != "c1=v1" || ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 {
		t.Errorf("cookies %v, request id %q, epoch %d", ev.Cookies, ev.RequestContext.RequestID, ev.RequestContext.TimeEpoch)
	}
	if exp := ev.RequestContext.Authorizer.JWT.Claims["exp"]; exp == "" || strings.Contains(exp, "e+") {
		t.Errorf("exp claim %q", exp)
	}

	t.Run("binary body is base64", func(t *testing.T) {
		inv.answer = nil
		status, _, _ := do(t, http.MethodPost, srv.URL+"/v1/migrations", tok, bytes.NewReader([]byte{0xff, 0xfe, 0x00}))
		if status != 200 || !inv.last.IsBase64Encoded || inv.last.Body != "//4A" {
			t.Fatalf("status %d, base64 %v body %q", status, inv.last.IsBase64Encoded, inv.last.Body)
		}
	})
	t.Run("function error is 502 INTERNAL", func(t *testing.T) {
		inv.answer = func(events.APIGatewayV2HTTPRequest) *rie.Result {
			return &rie.Result{Payload: []byte(`{"errorType":"x","errorMessage":"y"}`), FunctionError: "Unhandled"}
		}
		status, _, body := do(t, http.MethodGet, srv.URL+"/v1/plan", tok, nil)
		if e, _ := body["error"].(map[string]any); status != 502 || e["code"] != "INTERNAL" || e["message"] != "Internal Server Error" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("unknown route", func(t *testing.T) {
		for _, u := range []string{"/v1/nope", "/v1/plan/extra"} {
			status, _, body := do(t, http.MethodGet, srv.URL+u, tok, nil)
			if e, _ := body["error"].(map[string]any); status != 404 || e["code"] != "ROUTE_NOT_FOUND" {
				t.Fatalf("%s: %d %v", u, status, body)
			}
		}
		if status, _, _ := do(t, http.MethodDelete, srv.URL+"/v1/plan", tok, nil); status != 404 {
			t.Fatalf("DELETE /v1/plan: %d", status)
		}
	})
	t.Run("body over 10 MiB", func(t *testing.T) {
		status, _, body := do(t, http.MethodPost, srv.URL+"/v1/migrations", tok, bytes.NewReader(make([]byte, MaxBody+1)))
		if e, _ := body["error"].(map[string]any); status != 413 || e["code"] != "PAYLOAD_TOO_LARGE" {
			t.Fatalf("%d %v", status, body)
		}
	})
}

func TestStarting(t *testing.T) {
	s := New(nil, nil, &fakeInvoker{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	status, _, body := do(t, http.MethodGet, srv.URL+"/healthz", "", nil)
	if e, _ := body["error"].(map[string]any); status != 503 || e["code"] != "STARTING" {
		t.Fatalf("%d %v", status, body)
	}
}
