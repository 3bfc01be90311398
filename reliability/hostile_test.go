package reliability

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// hostile is one request built to hurt, and the refusal it must get.
type hostile struct {
	name    string
	method  string
	path    string
	body    []byte
	headers []string // name, value, ...
	status  int
	code    string // "" = any error body (the HTTP server's own refusals have none)
}

// Hostile requests against the running stack, each answered 4xx, and
// together changing nothing: neither a record of the table nor an execution
// of the state machine. The caller is alice, in the middle of her migration
// (both batches waiting for her agreement), so every route has real ids to
// aim at.
func TestHostileRequestsChangeNothing(t *testing.T) {
	s := sharedStack(t)
	alice := token(t, s, "microapp", "ma-1001", "alice@example.com")
	mid, batches := activeMigration(t, s, alice)
	base := "/v1/migrations/" + mid + "/batches/" + batches[0]
	a := migration.CurrentAgreement()
	jsonCT := []string{"Content-Type", "application/json"}

	mb := 1 << 20
	pad := func(n int) []byte { // a valid JSON object of n bytes
		prefix, suffix := `{"batchKeys":["`, `"]}`
		return []byte(prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix)
	}
	nested := func(depth int, open, close, leaf string) []byte {
		return []byte(`{"batchKeys":` + strings.Repeat(open, depth) + leaf + strings.Repeat(close, depth) + `}`)
	}
	crossCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"gsi1pk":"HOLD#src:microapp:ma-2002","gsi1sk":"a","pk":"x","sk":"#"}`))

	cases := []hostile{
		// Size.
		{name: "body 1 byte over 1 MiB", method: "POST", path: "/v1/migrations", body: pad(mb + 1), headers: jsonCT, status: 413, code: "PAYLOAD_TOO_LARGE"},
		{name: "commit with a 2 MiB body", method: "POST", path: base + "/commit", body: pad(2 * mb), headers: jsonCT, status: 413, code: "PAYLOAD_TOO_LARGE"},
		{name: "body over API Gateway's 10 MiB", method: "POST", path: "/v1/migrations", body: pad(11 * mb), headers: jsonCT, status: 413, code: "PAYLOAD_TOO_LARGE"},
		// Nesting and malformed JSON.
		{name: "arrays nested 100,000 deep", method: "POST", path: "/v1/migrations", body: nested(100000, "[", "]", ""), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "objects nested 50,000 deep", method: "PUT", path: base + "/target", body: nested(50000, `{"a":`, "}", "1"), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "arrays nested 5,000 deep", method: "POST", path: "/v1/migrations", body: nested(5000, "[", "]", `"x"`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "truncated JSON", method: "POST", path: base + "/commit", body: []byte(`{"confirm": true`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "two JSON objects", method: "POST", path: base + "/commit", body: []byte(`{"confirm":true}{"confirm":true}`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "confirm as a string", method: "POST", path: base + "/commit", body: []byte(`{"confirm":"true"}`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "confirm false", method: "POST", path: base + "/commit", body: []byte(`{"confirm":false}`), headers: jsonCT, status: 400},
		{name: "unknown field smuggling an account", method: "POST", path: "/v1/migrations", body: []byte(`{"batchKeys":[],"source":{"platform":"microapp","accountId":"ma-2002"}}`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "duplicate key turning confirm on", method: "POST", path: base + "/commit", body: []byte(`{"confirm":false,"confirm":true}`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "not UTF-8", method: "PUT", path: base + "/target", body: []byte("{\"mode\":\"new\xff\xfe\"}"), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "NUL in a value", method: "PUT", path: base + "/target", body: []byte("{\"mode\":\"existing\",\"accountId\":\"dev-alice-1\\u0000\"}"), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "JSON null body", method: "PUT", path: base + "/target", body: []byte(`null`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		// Content type.
		{name: "text/plain", method: "PUT", path: base + "/target", body: []byte(`{"mode":"new"}`), headers: []string{"Content-Type", "text/plain"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "form encoded", method: "POST", path: base + "/commit", body: []byte(`confirm=true`), headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "no content type", method: "POST", path: base + "/commit", body: []byte(`{"confirm":true}`), status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "json look-alike type", method: "POST", path: base + "/commit", body: []byte(`{"confirm":true}`), headers: []string{"Content-Type", "application/jsonp"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "multipart", method: "PUT", path: base + "/target", body: []byte("--x\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\nnew\r\n--x--\r\n"), headers: []string{"Content-Type", "multipart/form-data; boundary=x"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		// Ids with path characters, and queries.
		{name: "migration id ../", method: "GET", path: "/v1/migrations/..%2F..%2Fv1%2Fplan", status: 404},
		{name: "migration id with encoded slash", method: "GET", path: "/v1/migrations/" + mid + "%2Fbatches%2F" + batches[0], status: 404},
		{name: "batch id with dot segments", method: "POST", path: "/v1/migrations/" + mid + "/batches/%2e%2e/agreement", body: []byte(`{"version":"1","sha256":"x"}`), headers: jsonCT, status: 404},
		{name: "migration id with NUL", method: "GET", path: "/v1/migrations/" + mid + "%00", status: 404, code: "NOT_FOUND"},
		{name: "migration id with a backslash", method: "GET", path: "/v1/migrations/..%5C" + mid, status: 404, code: "NOT_FOUND"},
		{name: "migration id of 300 characters", method: "GET", path: "/v1/migrations/" + strings.Repeat("m", 300), status: 404, code: "NOT_FOUND"},
		{name: "target account id ../", method: "GET", path: "/v1/targets/developer/accounts/..%2F..%2Fpartner%2Faccounts%2Fpar-carol-1", status: 404},
		{name: "target platform traversal", method: "GET", path: "/v1/targets/..%2Fdeveloper/accounts/dev-alice-1", status: 404},
		{name: "ops route with traversal in the account", method: "GET", path: "/v1/ops/accounts/microapp/..%2Fma-2002/migration", status: 403},
		{name: "cursor for another account's holdings", method: "GET", path: "/v1/assets?cursor=" + crossCursor, status: 400, code: "INVALID_INPUT"},
		{name: "cursor that is not base64", method: "GET", path: "/v1/assets?cursor=%3Cscript%3E", status: 400, code: "INVALID_INPUT"},
		{name: "negative limit", method: "GET", path: "/v1/assets?limit=-1", status: 400, code: "INVALID_INPUT"},
		{name: "huge limit", method: "GET", path: "/v1/assets?limit=99999999999999999999", status: 400, code: "INVALID_INPUT"},
		{name: "method not routed", method: "DELETE", path: "/v1/migrations/" + mid, status: 404},
		// Unicode look-alikes.
		{name: "migration id with a Cyrillic e", method: "GET", path: "/v1/migrations/" + url.PathEscape(strings.Replace(mid, "m-", "м-", 1)), status: 404, code: "NOT_FOUND"},
		{name: "migration id with fullwidth digits", method: "GET", path: "/v1/migrations/" + url.PathEscape(fullwidth(mid)), status: 404, code: "NOT_FOUND"},
		{name: "batch key with a Cyrillic s", method: "POST", path: "/v1/migrations", body: []byte(`{"batchKeys":["ѕubj-acme/developer"]}`), headers: jsonCT, status: 400, code: "UNKNOWN_BATCH"},
		{name: "target account with a Cyrillic a", method: "PUT", path: base + "/target", body: []byte(`{"mode":"existing","accountId":"dev-аlice-1"}`), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "target mode with a zero-width space", method: "PUT", path: base + "/target", body: []byte("{\"mode\":\"new\u200b\"}"), headers: jsonCT, status: 400, code: "INVALID_INPUT"},
		{name: "agreement version with a look-alike hyphen", method: "POST", path: base + "/agreement", body: jsonBody(map[string]string{"version": strings.ReplaceAll(a.Version, "-", "‐"), "sha256": a.SHA256}), headers: jsonCT, status: 409},
		// Idempotency-Key.
		{name: "Idempotency-Key of 256 characters", method: "PUT", path: base + "/target", body: []byte(`{"mode":"new"}`), headers: append([]string{"Idempotency-Key", strings.Repeat("k", 256)}, jsonCT...), status: 400, code: "INVALID_INPUT"},
		{name: "Idempotency-Key of 64 KiB", method: "POST", path: base + "/commit", body: []byte(`{"confirm":true}`), headers: append([]string{"Idempotency-Key", strings.Repeat("k", 64<<10)}, jsonCT...), status: 400, code: "INVALID_INPUT"},
		{name: "Idempotency-Key of 2 MiB", method: "POST", path: "/v1/migrations", body: []byte(`{}`), headers: append([]string{"Idempotency-Key", strings.Repeat("k", 2*mb)}, jsonCT...), status: 431},
		{name: "Idempotency-Key with spaces", method: "POST", path: "/v1/migrations", body: []byte(`{}`), headers: append([]string{"Idempotency-Key", "a b"}, jsonCT...), status: 400, code: "INVALID_INPUT"},
		{name: "Idempotency-Key not ASCII", method: "POST", path: "/v1/migrations", body: []byte(`{}`), headers: append([]string{"Idempotency-Key", "ключ"}, jsonCT...), status: 400, code: "INVALID_INPUT"},
	}

	before := settledState(t, s)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(t, s, c.method, c.path, alice, c.body, c.headers...)
			assert.Equal(t, c.status, r.Status, "%s %s: %s", c.method, c.path, truncate(r.Raw, 300))
			if c.code != "" {
				assert.Equal(t, c.code, r.Code(), truncate(r.Raw, 300))
			}
			assert.NotContains(t, r.Raw, "panic", "no internals leak")
			assert.NotContains(t, r.Raw, "goroutine")
		})
	}
	after := readStackState(t, s)
	assert.Equal(t, before.Executions, after.Executions, "no execution started or ended")
	assert.Equal(t, before.Records, after.Records, "no record of the table changed")

	// The control: the same routes still work for a well-formed request.
	r := sendJSON(t, s, "GET", "/v1/migrations/"+mid, alice, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	var status struct {
		Batches []struct {
			State string `json:"state"`
		} `json:"batches"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Raw), &status))
	require.Len(t, status.Batches, len(batches))
	for _, b := range status.Batches {
		assert.Equal(t, "AWAITING_AGREEMENT", b.State, "nothing moved on")
	}
}

func jsonBody(v any) []byte {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return bytes.TrimSpace(b.Bytes())
}

// fullwidth swaps ASCII digits for their fullwidth look-alikes.
func fullwidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}
