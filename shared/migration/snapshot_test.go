package migration

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validSnapshotJSON is a small complete snapshot every refusal case below
// breaks in exactly one place.
const validSnapshotJSON = `{
  "version": 1,
  "subjects":   [{"id": "subj-a", "name": "Acme", "kind": "company", "certified": true},
                 {"id": "subj-b", "name": "Bob", "kind": "person", "certified": true}],
  "accounts":   [{"platform": "douyin_open_legacy", "id": "acct-1", "login": "alice@example.com", "subjectId": "subj-a"},
                 {"platform": "douyin_open_legacy", "id": "acct-2", "login": "bob@example.com"}],
  "identities": [{"id": "idn-1", "platform": "douyin_open_legacy", "accountId": "acct-1", "kind": "system_service_provider", "subjectId": "subj-a", "certified": true}],
  "apps":       [{"id": "app-1", "platform": "douyin_open_legacy", "kind": "miniprogram", "name": "Shop", "creatorAccountId": "acct-1", "subjectId": "subj-b", "certified": true}],
  "services":   [{"id": "svc-1", "platform": "douyin_open_legacy", "name": "Store ops", "ownerAccountId": "acct-1", "subjectId": "subj-a", "certified": true}],
  "members":    [{"assetId": "app-1", "accountId": "acct-2", "role": "admin"}],
  "data":       [{"id": "ds-1", "assetId": "app-1", "kind": "analytics"}],
  "orders":     [{"id": "ord-1", "assetId": "app-1", "amountCents": 9900, "currency": "CNY", "status": "paid"}],
  "targetAccounts": [{"platform": "developer", "id": "dev-1", "login": "alice@example.com", "onboarding": "completed", "subjectId": "subj-b"}]
}`

// edit decodes validSnapshotJSON into generic JSON, applies f and re-encodes.
func edit(t *testing.T, f func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(validSnapshotJSON), &m))
	f(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func rec(m map[string]any, list string, i int) map[string]any {
	return m[list].([]any)[i].(map[string]any)
}

// The format example of docs/CONTRACT.md §4 references subject "subj-b" and
// account "acct-2", which it never defines: a snapshot with a dangling id is
// refused whole, naming the record (the same section's rule). The example
// with those two records added loads (TestParseSnapshotAcceptsCompleteSnapshot).
func TestParseSnapshotRefusesContractExampleDanglingIDs(t *testing.T) {
	raw, err := os.ReadFile("testdata/contract-example.json")
	require.NoError(t, err)
	_, err = ParseSnapshot(bytes.NewReader(raw))
	require.Error(t, err)
	assert.Equal(t, CodeInvalidInput, ErrorCode(err))
	assert.Contains(t, err.Error(), `apps[0] (id "app-1"): subjectId "subj-b" is not a subject`)
}

func TestParseSnapshotAcceptsCompleteSnapshot(t *testing.T) {
	snap, err := ParseSnapshot(strings.NewReader(validSnapshotJSON))
	require.NoError(t, err)
	assert.Equal(t, []Subject{
		{ID: "subj-a", Name: "Acme", Kind: SubjectCompany, Certified: true},
		{ID: "subj-b", Name: "Bob", Kind: SubjectPerson, Certified: true},
	}, snap.Subjects)
	assert.Equal(t, []Member{{AssetID: "app-1", AccountID: "acct-2", Role: RoleAdmin}}, snap.Members)
	assert.Equal(t, []Order{{ID: "ord-1", AssetID: "app-1", AmountCents: 9900, Currency: "CNY", Status: "paid"}}, snap.Orders)
	assert.Equal(t, []TargetAccount{{Platform: TargetDeveloper, ID: "dev-1", Login: "alice@example.com", Onboarding: OnboardingCompleted, SubjectID: "subj-b"}}, snap.TargetAccounts)
}

func TestParseSnapshotIsDeterministic(t *testing.T) {
	a, err := ParseSnapshot(strings.NewReader(validSnapshotJSON))
	require.NoError(t, err)
	b, err := ParseSnapshot(strings.NewReader(validSnapshotJSON))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, Place(a), Place(b), "the same snapshot places the same way")
}

func TestParseSnapshotRefuses(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // substrings the message must contain: the record and what is wrong
	}{
		{
			name:  "unknown_top_level_field",
			input: edit(t, func(m map[string]any) { m["extra"] = 1 }),
			want:  []string{`"extra"`},
		},
		{
			name:  "unknown_field_in_a_record",
			input: edit(t, func(m map[string]any) { rec(m, "apps", 0)["color"] = "red" }),
			want:  []string{`"color"`, "apps[0]"},
		},
		{
			name:  "wrong_type_string_amountCents",
			input: edit(t, func(m map[string]any) { rec(m, "orders", 0)["amountCents"] = "9900" }),
			want:  []string{"amountCents", "orders[0]"},
		},
		{
			name:  "version_2",
			input: edit(t, func(m map[string]any) { m["version"] = 2 }),
			want:  []string{"version", "2"},
		},
		{
			name:  "missing_version",
			input: edit(t, func(m map[string]any) { delete(m, "version") }),
			want:  []string{"version"},
		},
		{
			name:  "unknown_platform",
			input: edit(t, func(m map[string]any) { rec(m, "accounts", 0)["platform"] = "evil" }),
			want:  []string{"accounts[0]", `"acct-1"`, `"evil"`},
		},
		{
			name:  "unknown_platform_on_an_app",
			input: edit(t, func(m map[string]any) { rec(m, "apps", 0)["platform"] = "microapp2" }),
			want:  []string{"apps[0]", `"app-1"`, `"microapp2"`},
		},
		{
			name:  "dangling_subjectId",
			input: edit(t, func(m map[string]any) { rec(m, "apps", 0)["subjectId"] = "subj-zz" }),
			want:  []string{"apps[0]", `"app-1"`, `"subj-zz"`},
		},
		{
			name:  "dangling_creatorAccountId",
			input: edit(t, func(m map[string]any) { rec(m, "apps", 0)["creatorAccountId"] = "acct-zz" }),
			want:  []string{"apps[0]", `"app-1"`, `"acct-zz"`},
		},
		{
			name:  "creator_on_another_platform",
			input: edit(t, func(m map[string]any) { rec(m, "apps", 0)["platform"] = "microapp" }),
			want:  []string{"apps[0]", `"app-1"`, `"acct-1"`},
		},
		{
			name:  "member_of_a_non_app_asset",
			input: edit(t, func(m map[string]any) { rec(m, "members", 0)["assetId"] = "svc-1" }),
			want:  []string{"members[0]", `"svc-1"`, `"acct-2"`},
		},
		{
			name: "duplicate_app_id",
			input: edit(t, func(m map[string]any) {
				dup := map[string]any{}
				for k, v := range rec(m, "apps", 0) {
					dup[k] = v
				}
				dup["name"] = "Shop 2"
				m["apps"] = append(m["apps"].([]any), dup)
			}),
			want: []string{"apps[1]", `"app-1"`, "duplicate"},
		},
		{
			name:  "duplicate_id_across_app_and_service",
			input: edit(t, func(m map[string]any) { rec(m, "services", 0)["id"] = "app-1" }),
			want:  []string{"services[0]", `"app-1"`, "duplicate"},
		},
		{
			name: "duplicate_account_same_platform_and_id",
			input: edit(t, func(m map[string]any) {
				m["accounts"] = append(m["accounts"].([]any), map[string]any{"platform": "douyin_open_legacy", "id": "acct-1", "login": "mallory@example.com"})
			}),
			want: []string{"accounts[2]", `"acct-1"`, "duplicate"},
		},
		{
			name:  "data_with_dangling_assetId",
			input: edit(t, func(m map[string]any) { rec(m, "data", 0)["assetId"] = "app-zz" }),
			want:  []string{"data[0]", `"ds-1"`, `"app-zz"`},
		},
		{
			name:  "order_with_dangling_assetId",
			input: edit(t, func(m map[string]any) { rec(m, "orders", 0)["assetId"] = "app-zz" }),
			want:  []string{"orders[0]", `"ord-1"`, `"app-zz"`},
		},
		{
			name:  "id_with_a_slash",
			input: edit(t, func(m map[string]any) { rec(m, "apps", 0)["id"] = "app/1" }),
			want:  []string{"apps[0]", `"app/1"`},
		},
		{
			name:  "id_with_a_space",
			input: edit(t, func(m map[string]any) { rec(m, "services", 0)["id"] = "svc 1" }),
			want:  []string{"services[0]", `"svc 1"`},
		},
		{
			name:  "trailing_data_after_the_object",
			input: validSnapshotJSON + ` {"version": 1}`,
			want:  []string{"after"},
		},
		{
			name:  "trailing_garbage_after_the_object",
			input: validSnapshotJSON + " x",
			want:  []string{"after"},
		},
		{
			name:  "trailing_closing_brace_after_the_object",
			input: validSnapshotJSON + "}",
			want:  []string{"after"},
		},
		{
			name:  "trailing_closing_bracket_after_the_object",
			input: validSnapshotJSON + "\n]",
			want:  []string{"after"},
		},
		{
			name:  "malformed_JSON",
			input: `{"version": 1, "subjects": [}`,
			want:  []string{"malformed"},
		},
		{
			name:  "truncated_JSON",
			input: validSnapshotJSON[:len(validSnapshotJSON)/2],
		},
		{
			name:  "empty_input",
			input: "",
		},
		{
			name:  "not_an_object",
			input: `[1,2,3]`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := ParseSnapshot(strings.NewReader(tc.input))
			require.Error(t, err, "must be refused")
			assert.Nil(t, snap, "nothing half-loaded")
			assert.Equal(t, CodeInvalidInput, ErrorCode(err))
			var ce *Error
			require.ErrorAs(t, err, &ce)
			for _, w := range tc.want {
				assert.Contains(t, ce.Message, w, "the caller-safe message must name the record and the problem")
			}
		})
	}
}

// A snapshot record with a duplicated key is refused, naming the record.
func TestParseSnapshotRefusesDuplicatedKey(t *testing.T) {
	input := strings.Replace(validSnapshotJSON, `"subjectId": "subj-b", "certified": true}],
  "services"`, `"subjectId": "subj-b", "certified": false, "certified": true}],
  "services"`, 1)
	require.NotEqual(t, validSnapshotJSON, input)
	_, err := ParseSnapshot(strings.NewReader(input))
	require.Error(t, err)
	assert.Equal(t, CodeInvalidInput, ErrorCode(err))
	assert.Contains(t, err.Error(), `apps[0]: duplicate key "certified"`)

	input = strings.Replace(validSnapshotJSON, `"amountCents": 9900`, `"AmountCents": 9900`, 1)
	_, err = ParseSnapshot(strings.NewReader(input))
	assert.ErrorContains(t, err, `orders[0]: unknown field "AmountCents"`)
}
