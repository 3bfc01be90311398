package dynamostore_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

func cursorOf(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

// A forged or garbled cursor is bad input (400
// INVALID_INPUT over HTTP), never a store error (500), on every listing that
// takes one: the assets, a batch's review, a target's holdings, the audit.
func TestForgedCursorIsInvalidInput(t *testing.T) {
	snap := aliceApps(3).
		target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "").build(t)
	e := newEnv(t, snap)
	page, err := e.m.Assets(e.ctx, alice, "", 2)
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor, "a real cursor to start from")
	_, err = e.m.Assets(e.ctx, alice, page.NextCursor, 2)
	require.NoError(t, err, "a genuine cursor still works")

	held := "HOLD#src:microapp:ma-1"
	forged := map[string]string{
		"not_base64":            "%%%",
		"not_json":              cursorOf("nope"),
		"index_key_only":        cursorOf(`{"gsi1pk":"` + held + `"}`),
		"index_keys_no_table":   cursorOf(`{"gsi1pk":"` + held + `","gsi1sk":"subj-a/developer#app#app-0"}`),
		"empty_sort_key":        cursorOf(`{"gsi1pk":"` + held + `","gsi1sk":"","pk":"ITEM#app#app-0","sk":"#"}`),
		"number_value":          cursorOf(`{"gsi1pk":"` + held + `","gsi1sk":1,"pk":"ITEM#app#app-0","sk":"#"}`),
		"duplicate_partition":   cursorOf(`{"gsi1pk":"HOLD#src:microapp:ma-2","gsi1pk":"` + held + `","gsi1sk":"x","pk":"p","sk":"s"}`),
		"other_account":         cursorOf(`{"gsi1pk":"HOLD#src:microapp:ma-2","gsi1sk":"x","pk":"p","sk":"s"}`),
		"extra_key":             cursorOf(`{"gsi1pk":"` + held + `","gsi1sk":"x","pk":"p","sk":"s","gsi2pk":"y"}`),
		"case_changed_key_name": cursorOf(`{"GSI1PK":"` + held + `","gsi1sk":"x","pk":"p","sk":"s"}`),
	}
	for name, c := range forged {
		t.Run("assets_"+name, func(t *testing.T) {
			_, err := e.m.Assets(e.ctx, alice, c, 2)
			assert.Equal(t, migration.CodeInvalidInput, migration.ErrorCode(err), "%v", err)
		})
	}
	_, _, err = e.store.AuditTrail(e.ctx, alice, cursorOf(`{"pk":"AUDIT#microapp:ma-1"}`), 10)
	assert.Equal(t, migration.CodeInvalidInput, migration.ErrorCode(err), "%v", err)
	_, _, err = e.store.HeldItems(e.ctx, "tgt:developer:dev-1", "", cursorOf(`{"gsi1pk":"HOLD#tgt:developer:dev-1","gsi1sk":"a"}`), 10)
	assert.Equal(t, migration.CodeInvalidInput, migration.ErrorCode(err), "target holdings: %v", err)
	_, _, err = e.store.Followers(e.ctx, "src:microapp:ma-1", "subj-a/developer", cursorOf(`{"gsi2pk":"FOLLOW#src:microapp:ma-1","gsi2sk":"other/developer#x","pk":"p","sk":"s"}`), 10)
	assert.Equal(t, migration.CodeInvalidInput, migration.ErrorCode(err), "review followers outside the batch: %v", err)
}
