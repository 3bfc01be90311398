package rie

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxPayload is Lambda's limit on a synchronous invoke's request.
const MaxPayload = 6 * 1024 * 1024

// Front is the local AWS endpoint: it answers Lambda Invoke for the pooled
// functions itself and passes every other request to moto unchanged. moto's
// Step Functions interpreter sends its Lambda invokes here (MOTO_PORT).
type Front struct {
	mu    sync.RWMutex
	pools map[string]*Pool
	proxy *httputil.ReverseProxy
}

// NewFront serves pools (by function name) and proxies the rest to upstream.
func NewFront(upstream string, pools []*Pool) (*Front, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	f := &Front{pools: map[string]*Pool{}, proxy: httputil.NewSingleHostReverseProxy(u)}
	f.proxy.ErrorLog = nil
	f.proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		slog.Error("aws front: proxy to moto", "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(http.StatusBadGateway)
	}
	for _, p := range pools {
		f.pools[p.Name()] = p
	}
	return f, nil
}

// Replace routes the function's invokes to p from now on (a deploy of new
// code) and returns the pool that ran it before, or nil for a new function.
func (f *Front) Replace(p *Pool) *Pool {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.pools[p.Name()]
	f.pools[p.Name()] = p
	return old
}

// Remove stops routing to a function (a deploy that deleted it) and returns
// its pool, or nil.
func (f *Front) Remove(name string) *Pool {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.pools[name]
	delete(f.pools, name)
	return old
}

// Pools lists the pools invokes go to now.
func (f *Front) Pools() []*Pool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*Pool, 0, len(f.pools))
	for _, p := range f.pools {
		out = append(out, p)
	}
	return out
}

// pool finds the pool of a function name or ARN. A qualifier (name:qualifier
// or ARN:qualifier) must be $LATEST, a version number or one of the
// function's aliases: on Lambda another one is not found.
func (f *Front) pool(function string) (*Pool, bool) {
	f.mu.RLock()
	p, ok := f.pools[FunctionName(function)]
	f.mu.RUnlock()
	if !ok {
		return nil, false
	}
	q := Qualifier(function)
	if q == "" || q == "$LATEST" || version.MatchString(q) || slices.Contains(p.fn.Aliases, q) {
		return p, true
	}
	return nil, false
}

var version = regexp.MustCompile(`^[1-9][0-9]*$`)

// Qualifier is the alias or version a function name or ARN names, or "".
func Qualifier(s string) string {
	_, q := splitFunction(s)
	return q
}

// NewRequestID makes a Lambda-style request id (a UUID v4).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ErrNoFunction is returned by Invoke for a function the stack does not run.
var ErrNoFunction = errors.New("function not found")

// Invoke runs a function by name or ARN (the HTTP API uses this too, so both
// paths share queueing and error normalisation).
func (f *Front) Invoke(ctx context.Context, function, requestID string, payload []byte) (*Result, error) {
	p, ok := f.pool(function)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoFunction, function)
	}
	start := time.Now()
	res, err := p.Invoke(ctx, requestID, payload)
	for tries := 0; errors.Is(err, ErrPoolClosed) && tries < 3; tries++ {
		// A deploy replaced the pool between the lookup and the invoke:
		// the function's new pool takes it.
		if p, ok = f.pool(function); !ok {
			return nil, fmt.Errorf("%w: %s", ErrNoFunction, function)
		}
		res, err = p.Invoke(ctx, requestID, payload)
	}
	attrs := []any{"function", p.Name(), "requestId", requestID, "ms", time.Since(start).Milliseconds()}
	switch {
	case err != nil:
		slog.Error("invoke failed", append(attrs, "err", err)...)
	case res.FunctionError != "":
		slog.Debug("invoke: function error", append(attrs, "payload", truncate(res.Payload, 300))...)
	default:
		slog.Debug("invoke", attrs...)
	}
	return res, err
}

// FunctionName extracts the function name from a name, a full ARN
// (arn:aws:lambda:r:a:function:Name[:qualifier]) or a partial one
// (a:function:Name).
func FunctionName(s string) string {
	name, _ := splitFunction(s)
	return name
}

// splitFunction reads a function's name and qualifier from a name, a full
// ARN (arn:aws:lambda:r:a:function:Name[:qualifier]) or a partial one
// (a:function:Name, function:Name).
func splitFunction(s string) (name, qualifier string) {
	if _, after, ok := strings.Cut(s, ":function:"); ok {
		s = after
	} else {
		s = strings.TrimPrefix(s, "function:")
	}
	name, qualifier, _ = strings.Cut(s, ":")
	return name, qualifier
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if fn, ok := invokePath(r); ok && r.Method == http.MethodPost {
		f.serveInvoke(w, r, fn)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

// invokePath matches /2015-03-31/functions/{FunctionName}/invocations on the
// raw path, so an escaped ARN (%3A) stays one segment.
func invokePath(r *http.Request) (string, bool) {
	p := r.URL.EscapedPath()
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) || len(p) <= len(prefix)+len(suffix) {
		return "", false
	}
	seg := p[len(prefix) : len(p)-len(suffix)]
	if strings.Contains(seg, "/") {
		return "", false
	}
	name, err := url.PathUnescape(seg)
	if err != nil {
		return "", false
	}
	return name, true
}

func (f *Front) serveInvoke(w http.ResponseWriter, r *http.Request, function string) {
	requestID := NewRequestID()
	h := w.Header()
	// Step Functions (botocore) needs these on every answer, errors included.
	h.Set("x-amzn-RequestId", requestID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	h.Set("Content-Type", "application/json")

	if q := r.URL.Query().Get("Qualifier"); q != "" && Qualifier(function) == "" {
		function += ":" + q
	}
	if _, ok := f.pool(function); !ok {
		awsError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: "+functionArn(function))
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayload))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			awsError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
				fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxPayload))
			return
		}
		awsError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}

	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// Asynchronous: accepted now, run in the background on the pool.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			_, _ = f.Invoke(ctx, function, requestID, payload)
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	}

	res, err := f.Invoke(r.Context(), function, requestID, payload)
	if err != nil {
		if r.Context().Err() != nil {
			return // the caller went away
		}
		awsError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	if res.FunctionError != "" {
		h.Set("X-Amz-Function-Error", res.FunctionError)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}

func functionArn(function string) string {
	if strings.HasPrefix(function, "arn:") {
		return function
	}
	return "arn:aws:lambda:us-east-1:123456789012:function:" + FunctionName(function)
}

// awsError writes a Lambda API error as the SDKs parse it.
func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": msg, "message": msg})
}
