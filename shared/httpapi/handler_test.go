package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These requests are all refused before the API touches a store: the API has
// no Migrator, Idempotency or Ops reader, so reaching one would panic.
func quietAPI() *API {
	return &API{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func claims(sub, platform, scope string) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	c := map[string]string{"sub": sub, "platform": platform, "login": "alice@example.com"}
	if scope != "" {
		c["scope"] = scope
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c},
	}
}

func alice() *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	return claims("ma-1001", "microapp", DeveloperScope)
}

type reqOpt func(ev *events.APIGatewayV2HTTPRequest)

func withAuth(a *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) reqOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.Authorizer = a }
}

func withBody(contentType, body string) reqOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Headers["content-type"] = contentType
		ev.Body = body
	}
}

func withHeader(k, v string) reqOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers[k] = v }
}

func withParams(kv ...string) reqOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) {
		ev.PathParameters = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			ev.PathParameters[kv[i]] = kv[i+1]
		}
	}
}

func event(routeKey, rawPath string, opts ...reqOpt) events.APIGatewayV2HTTPRequest {
	method, _, _ := strings.Cut(routeKey, " ")
	ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: rawPath, Headers: map[string]string{}}
	ev.RequestContext.RequestID = "req-" + strings.NewReplacer(" ", "-", "/", "_").Replace(routeKey)
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = rawPath
	ev.RequestContext.HTTP.SourceIP = "203.0.113.7"
	for _, o := range opts {
		o(&ev)
	}
	return ev
}

// wantError checks the status and the docs/CONTRACT.md §2 error shape.
func wantError(t *testing.T, ev events.APIGatewayV2HTTPRequest, status int, code string) {
	t.Helper()
	var res events.APIGatewayV2HTTPResponse
	require.NotPanics(t, func() {
		var err error
		res, err = quietAPI().Handle(context.Background(), ev)
		require.NoError(t, err, "errors are answered, never returned to the Lambda runtime")
	}, "a refused request must not reach the store")
	assert.Equal(t, status, res.StatusCode, "body: %s", res.Body)
	assert.Equal(t, "application/json", res.Headers["content-type"])
	assert.Equal(t, ev.RequestContext.RequestID, res.Headers["x-request-id"])

	var body map[string]map[string]any
	dec := json.NewDecoder(strings.NewReader(res.Body))
	require.NoError(t, dec.Decode(&body), "error body must be JSON: %s", res.Body)
	require.Len(t, body, 1, "only an \"error\" member: %s", res.Body)
	e, ok := body["error"]
	require.True(t, ok, "body: %s", res.Body)
	assert.Len(t, e, 3, "error has code, message, requestId: %s", res.Body)
	assert.Equal(t, code, e["code"])
	msg, _ := e["message"].(string)
	assert.NotEmpty(t, msg, "a message the developer can read")
	assert.Equal(t, ev.RequestContext.RequestID, e["requestId"])
}

func TestHandleRefusesBeforeAnyStore(t *testing.T) {
	tooBig := `{"batchKeys":["` + strings.Repeat("a", 1<<20) + `"]}`
	tests := []struct {
		name   string
		ev     events.APIGatewayV2HTTPRequest
		status int
		code   string
	}{
		{"unknown_route", event("GET /v1/nope", "/v1/nope", withAuth(alice())), http.StatusNotFound, "ROUTE_NOT_FOUND"},
		{"unknown_method_on_known_path", event("DELETE /v1/migrations", "/v1/migrations", withAuth(alice())), http.StatusNotFound, "ROUTE_NOT_FOUND"},
		{"no_claims", event("GET /v1/assets", "/v1/assets"), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"jwt_without_claims", event("GET /v1/plan", "/v1/plan", withAuth(&events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{}})), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"developer_route_without_developer_scope", event("GET /v1/assets", "/v1/assets", withAuth(claims("ma-1001", "microapp", "openid migration:developerx"))), http.StatusForbidden, "FORBIDDEN"},
		{"developer_route_with_ops_scope_only", event("GET /v1/plan", "/v1/plan", withAuth(claims("ma-1001", "microapp", OpsScope))), http.StatusForbidden, "FORBIDDEN"},
		{"claims_platform_evil", event("GET /v1/assets", "/v1/assets", withAuth(claims("ma-1001", "evil", ""))), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"claims_target_platform", event("GET /v1/assets", "/v1/assets", withAuth(claims("dev-1", "developer", ""))), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"claims_without_sub", event("GET /v1/assets", "/v1/assets", withAuth(claims("", "microapp", ""))), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"claims_sub_with_slash", event("GET /v1/assets", "/v1/assets", withAuth(claims("ma/1001", "microapp", ""))), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"no_claims_on_commit", event("POST /v1/migrations/{migrationId}/batches/{batchId}/commit", "/v1/migrations/m-1/batches/b-1/commit",
			withParams("migrationId", "m-1", "batchId", "b-1"), withBody("application/json", `{"confirm":true}`)), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"ops_route_without_scope", event("GET /v1/ops/accounts/{platform}/{accountId}/migration", "/v1/ops/accounts/microapp/ma-2/migration",
			withAuth(alice()), withParams("platform", "microapp", "accountId", "ma-2")), http.StatusForbidden, "FORBIDDEN"},
		{"ops_route_with_other_scope", event("GET /v1/ops/accounts/{platform}/{accountId}/migration", "/v1/ops/accounts/microapp/ma-2/migration",
			withAuth(claims("ma-1001", "microapp", "openid migration:read migration:opsx")), withParams("platform", "microapp", "accountId", "ma-2")), http.StatusForbidden, "FORBIDDEN"},
		{"ops_route_without_claims", event("GET /v1/ops/accounts/{platform}/{accountId}/migration", "/v1/ops/accounts/microapp/ma-2/migration",
			withParams("platform", "microapp", "accountId", "ma-2")), http.StatusUnauthorized, "UNAUTHORIZED"},
		{"body_over_1MiB", event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withBody("application/json", tooBig)),
			http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE"},
		{"base64_body_over_1MiB", event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withBody("application/json", base64.StdEncoding.EncodeToString([]byte(tooBig))),
			func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded = true }), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE"},
		{"text_plain_body", event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withBody("text/plain", `{"batchKeys":[]}`)),
			http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"},
		{"body_without_content_type", event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withBody("", `{"batchKeys":[]}`)),
			http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"},
		{"invalid_base64_body", event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withBody("application/json", "%%%"),
			func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded = true }), http.StatusBadRequest, "INVALID_INPUT"},
		{"non_utf8_body", event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withBody("application/json", "{\"batchKeys\":[\"\xff\"]}")),
			http.StatusBadRequest, "INVALID_INPUT"},
		{"migrationId_dot_dot_slash", event("GET /v1/migrations/{migrationId}", "/v1/migrations/..%2Fx", withAuth(alice()), withParams("migrationId", "../x")),
			http.StatusNotFound, "NOT_FOUND"},
		{"batchId_with_space", event("GET /v1/migrations/{migrationId}/batches/{batchId}", "/v1/migrations/m-1/batches/b%201",
			withAuth(alice()), withParams("migrationId", "m-1", "batchId", "b 1")), http.StatusNotFound, "NOT_FOUND"},
		{"target_accountId_traversal", event("GET /v1/targets/{platform}/accounts/{accountId}", "/v1/targets/developer/accounts/..%2F..",
			withAuth(alice()), withParams("platform", "developer", "accountId", "../..")), http.StatusNotFound, "NOT_FOUND"},
		{"idempotency_key_300_chars", event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withHeader("Idempotency-Key", strings.Repeat("k", 300))),
			http.StatusBadRequest, "INVALID_INPUT"},
		{"idempotency_key_with_space", event("POST /v1/migrations/{migrationId}/batches/{batchId}/commit", "/v1/migrations/m-1/batches/b-1/commit",
			withAuth(alice()), withParams("migrationId", "m-1", "batchId", "b-1"), withHeader("idempotency-key", "two words"), withBody("application/json", `{"confirm":true}`)),
			http.StatusBadRequest, "INVALID_INPUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, tc.ev, tc.status, tc.code)
		})
	}
}

func TestHandleHealthzNeedsNoToken(t *testing.T) {
	ev := event("GET /healthz", "/healthz")
	res, err := quietAPI().Handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, `{"status":"ok"}`, res.Body)
	assert.Equal(t, ev.RequestContext.RequestID, res.Headers["x-request-id"])

	// Built with a release, it says which: a canary serves two.
	api := quietAPI()
	api.Release = "v1.4.0-3-gabc1234"
	res, err = api.Handle(context.Background(), ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":"ok","release":"v1.4.0-3-gabc1234"}`, res.Body)
}

// Internal error text never reaches the caller.
func TestPublicErrorHidesInternals(t *testing.T) {
	status, code, msg := publicError(io.ErrUnexpectedEOF)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, "INTERNAL", string(code))
	assert.Equal(t, "internal error", msg)
}

// Request bodies are strict JSON. A duplicated "confirm"
// (v1 let the last one win: {"confirm":false,"confirm":true} confirmed) or a
// field name in another case is 400 INVALID_INPUT before anything is read or
// written (the API here has no store: reaching one would panic).
func TestStrictBodiesRefusedBeforeAnyStore(t *testing.T) {
	commit := func(body string) events.APIGatewayV2HTTPRequest {
		return event("POST /v1/migrations/{migrationId}/batches/{batchId}/commit", "/v1/migrations/m-1/batches/b-1/commit",
			withAuth(alice()), withParams("migrationId", "m-1", "batchId", "b-1"), withBody("application/json", body))
	}
	target := func(body string) events.APIGatewayV2HTTPRequest {
		return event("PUT /v1/migrations/{migrationId}/batches/{batchId}/target", "/v1/migrations/m-1/batches/b-1/target",
			withAuth(alice()), withParams("migrationId", "m-1", "batchId", "b-1"), withBody("application/json", body))
	}
	for name, ev := range map[string]events.APIGatewayV2HTTPRequest{
		"duplicated_confirm":       commit(`{"confirm":false,"confirm":true}`),
		"duplicated_confirm_true":  commit(`{"confirm":true,"confirm":true}`),
		"confirm_in_upper_case":    commit(`{"CONFIRM":true}`),
		"accountId_in_upper_case":  target(`{"mode":"existing","ACCOUNTID":"dev-1"}`),
		"duplicated_mode":          target(`{"mode":"existing","mode":"new"}`),
		"duplicated_batchKeys":     event("POST /v1/migrations", "/v1/migrations", withAuth(alice()), withBody("application/json", `{"batchKeys":[],"batchKeys":["a/developer"]}`)),
		"trailing_second_document": commit(`{"confirm":true}{"confirm":true}`),
	} {
		t.Run(name, func(t *testing.T) { wantError(t, ev, http.StatusBadRequest, "INVALID_INPUT") })
	}
}
