package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that answers each path with a fixed status and body.
func fixed(answers map[string]struct {
	status int
	body   string
}) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.Method+" "+r.URL.Path]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
}

func TestValidatorReportsWhatTheSpecDoesNotSay(t *testing.T) {
	const agreement = `{"version":"v1","sha256":"2fab85d03047b0cd5f9d792db8d971b1a770ec38c27b87756b5329cfd2edc3e0","text":"t","lang":"en"}`
	srv := fixed(map[string]struct {
		status int
		body   string
	}{
		"GET /v1/agreement":   {200, agreement},
		"GET /v1/plan":        {200, `{"eligible":true,"batches":[],"skipped":[],"extra":1}`},
		"GET /v1/assets":      {418, `{"error":{"code":"TEAPOT","message":"m","requestId":"r"}}`},
		"GET /healthz":        {200, `{"Status":"ok"}`},
		"DELETE /v1/plan":     {404, `{"error":{"code":"ROUTE_NOT_FOUND","message":"m","requestId":"r"}}`},
		"GET /v1/not-a-route": {200, `{}`},
		"POST /v1/migrations": {422, `{"error":{"code":"WRONG_STEP","message":"m","requestId":"r"}}`},
	})
	defer srv.Close()
	var mu sync.Mutex
	var reports []error
	hc, err := ValidatingHTTPClient(func(err error) { mu.Lock(); reports = append(reports, err); mu.Unlock() })
	require.NoError(t, err)
	c := New(srv.URL, "tok", hc)
	ctx := context.Background()
	check := func(method, path string, wantReport bool) {
		t.Helper()
		reports = nil
		_, err := c.Do(ctx, method, path, nil)
		require.NoError(t, err)
		if wantReport {
			assert.Len(t, reports, 1, "%s %s must be reported", method, path)
		} else {
			assert.Empty(t, reports, "%s %s is as the spec says", method, path)
		}
	}
	check("GET", "/v1/agreement", false)  // the control
	check("DELETE", "/v1/plan", false)    // no such route: the router's 404
	check("GET", "/v1/plan", true)        // a field the spec lacks
	check("GET", "/healthz", true)        // a renamed field
	check("GET", "/v1/assets", true)      // a status the operation does not declare
	check("GET", "/v1/not-a-route", true) // a route the spec lacks
	check("POST", "/v1/migrations", true) // a code of another status
}
