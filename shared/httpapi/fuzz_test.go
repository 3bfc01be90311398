package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

type commitBody struct {
	Confirm *bool `json:"confirm"`
}

// FuzzDecodeBody: decode never panics, refuses with INVALID_INPUT, and what it
// accepts is exactly one JSON object whose only member is "confirm".
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"confirm":true}`, `{"confirm":false}`, ` {"confirm" : true} `, `{}`, `{"confirm":null}`,
		`{"confirm":true,"force":true}`, `{"confirm":"true"}`, `{"confirm":true} x`, `[true]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(``), true)
	f.Fuzz(func(t *testing.T, body []byte, optional bool) {
		var v commitBody
		err := decode(body, &v, optional)
		if err != nil {
			if migration.ErrorCode(err) != migration.CodeInvalidInput {
				t.Fatalf("refusal must be INVALID_INPUT, got %v", err)
			}
			return
		}
		if len(bytes.TrimSpace(body)) == 0 {
			if !optional {
				t.Fatalf("empty body accepted where a body is required")
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted %q, which is not one JSON value (trailing data or malformed)", body)
		}
		var generic any
		if err := json.Unmarshal(body, &generic); err != nil {
			t.Fatalf("accepted %q: %v", body, err)
		}
		if obj, ok := generic.(map[string]any); ok {
			for k := range obj {
				// Go's decoder matches field names case-insensitively; anything
				// else is an unknown field and must have been refused.
				if !strings.EqualFold(k, "confirm") {
					t.Fatalf("accepted %q with unknown field %q", body, k)
				}
			}
		}
	})
}

// FuzzRequestHash: an Idempotency-Key is bound to the request, not to its
// spacing: the same JSON compacted or indented hashes the same, and a
// different route or path hashes differently.
func FuzzRequestHash(f *testing.F) {
	for _, s := range []string{
		`{"confirm":true}`, `{"batchKeys":["subj-a/developer","subj-b/partner"]}`, `{"mode":"existing","accountId":"dev-1"}`,
		`{"version":"2026-11-01","sha256":"ab"}`, `{}`, `[]`, `"x"`, `1.5e3`, `{"a":{"b":[1,2,{"c":null}]}}`, `not json`, ``,
	} {
		f.Add([]byte(s))
	}
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "POST /v1/migrations/{migrationId}/batches/{batchId}/commit",
		RawPath: "/v1/migrations/m-1/batches/b-1/commit"}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := requestHash(ev, body)
		if h != requestHash(ev, body) {
			t.Fatalf("hash of %q is not stable", body)
		}
		other := ev
		other.RawPath = "/v1/migrations/m-1/batches/b-2/commit"
		if requestHash(other, body) == h {
			t.Fatalf("another path hashes the same as %q", body)
		}
		if !json.Valid(body) {
			return
		}
		var compact, indented bytes.Buffer
		if err := json.Compact(&compact, body); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&indented, body, "\n  ", "\t"); err != nil {
			t.Fatal(err)
		}
		spaced := append(append([]byte(" \r\n"), indented.Bytes()...), '\n', ' ')
		for _, b := range [][]byte{compact.Bytes(), indented.Bytes(), spaced} {
			if got := requestHash(ev, b); got != h {
				t.Fatalf("same JSON, different spacing, different hash:\n%q\n%q", body, b)
			}
		}
	})
}

func TestDecodeStrict(t *testing.T) {
	tru, fls := true, false
	for _, tc := range []struct {
		name     string
		body     string
		optional bool
		ok       bool
		want     *bool
	}{
		{"confirm_true", `{"confirm":true}`, false, true, &tru},
		{"confirm_false", `{"confirm": false}`, false, true, &fls},
		{"empty_required", ``, false, false, nil},
		{"blank_required", " \n\t", false, false, nil},
		{"empty_optional", ``, true, true, nil},
		{"unknown_field", `{"confirm":true,"force":true}`, false, false, nil},
		{"wrong_type", `{"confirm":"true"}`, false, false, nil},
		{"malformed", `{"confirm":true`, false, false, nil},
		{"trailing_object", `{"confirm":true}{"confirm":false}`, false, false, nil},
		{"trailing_garbage", `{"confirm":true} x`, false, false, nil},
		{"trailing_closing_brace", `{"confirm":true}}`, false, false, nil},
		{"trailing_closing_bracket", `{"confirm":true} ]`, false, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v commitBody
			err := decode([]byte(tc.body), &v, tc.optional)
			if !tc.ok {
				require.Error(t, err, "body %q must be refused", tc.body)
				assert.Equal(t, migration.CodeInvalidInput, migration.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, v.Confirm)
		})
	}
}

func TestRequestHashBindsRequest(t *testing.T) {
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "POST /v1/migrations", RawPath: "/v1/migrations"}
	a := requestHash(ev, []byte(`{"batchKeys":["subj-a/developer"]}`))
	assert.Equal(t, a, requestHash(ev, []byte("{ \"batchKeys\" : [ \"subj-a/developer\" ] }\n")), "spacing does not matter")
	assert.NotEqual(t, a, requestHash(ev, []byte(`{"batchKeys":["subj-b/developer"]}`)), "another body is another request")
	assert.NotEqual(t, a, requestHash(ev, []byte(`{"batchKeys":["subj-a/developer","subj-b/developer"]}`)))
	other := ev
	other.RouteKey = "PUT /v1/migrations"
	assert.NotEqual(t, a, requestHash(other, []byte(`{"batchKeys":["subj-a/developer"]}`)), "another route is another request")

	commit := events.APIGatewayV2HTTPRequest{RouteKey: "POST /v1/migrations/{migrationId}/batches/{batchId}/commit", RawPath: "/v1/migrations/m/batches/b/commit"}
	assert.NotEqual(t, requestHash(commit, []byte(`{"confirm":true}`)), requestHash(commit, []byte(`{"confirm":false}`)))
}
