package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// batchOf finds a batch by key in a migration status answer.
func batchOf(t *testing.T, status response, key string) map[string]any {
	t.Helper()
	for _, b := range list(status.Body["batches"]) {
		if str(obj(b)["batchKey"]) == key {
			return obj(b)
		}
	}
	t.Fatalf("no batch %s in %s", key, status.Raw)
	return nil
}

// A developer migrates the demo account ma-1001 through the HTTP API, the
// way the README's curl commands do: plan, start, agreement, target, confirm,
// then sees the data on the target platform (rules 6-10).
func TestDeveloperMigratesThroughHTTP(t *testing.T) {
	s := startStack(t, nil, nil)
	alice := developer(t, s, "microapp", "ma-1001", "alice@example.com")

	plan := alice.do("GET", "/v1/plan", nil)
	require.Equal(t, http.StatusOK, plan.Status, plan.Raw)
	assert.Equal(t, true, plan.Body["eligible"])
	keys := []string{}
	for _, b := range list(plan.Body["batches"]) {
		keys = append(keys, str(obj(b)["batchKey"]))
	}
	assert.Equal(t, []string{"subj-acme/developer", "subj-bright/developer"}, keys, "split by subject (rule 3)")

	assets := alice.do("GET", "/v1/assets", nil)
	require.Equal(t, http.StatusOK, assets.Status)
	assert.Contains(t, assets.Raw, `"reason":"UNCERTIFIED"`, "the uncertified app is listed as skipped (rule 11)")

	start := alice.do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "start-1")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	require.NotEmpty(t, mid)
	require.NotEmpty(t, str(start.Body["executionArn"]))
	again := alice.do("POST", "/v1/migrations", nil)
	assert.Equal(t, http.StatusOK, again.Status, "asking again returns the active migration")
	assert.Equal(t, mid, str(again.Body["migrationId"]))
	replay := alice.do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "start-1")
	assert.Equal(t, start.Raw, replay.Raw, "same key, same body: the first answer")
	reused := alice.do("POST", "/v1/migrations", map[string]any{"batchKeys": []string{"subj-acme/developer"}}, "Idempotency-Key", "start-1")
	assert.Equal(t, http.StatusUnprocessableEntity, reused.Status)

	status := alice.do("GET", "/v1/migrations/"+mid, nil)
	acme := batchOf(t, status, "subj-acme/developer")
	bid := str(acme["batchId"])
	base := "/v1/migrations/" + mid + "/batches/" + bid
	assert.Equal(t, "AWAITING_AGREEMENT", acme["state"])

	// Nothing proceeds before the agreement (rule 6).
	early := alice.do("POST", base+"/commit", map[string]any{"confirm": true})
	assert.Equal(t, http.StatusConflict, early.Status)
	assert.Equal(t, "WRONG_STEP", early.Code())
	notViewed := alice.do("POST", base+"/agreement", map[string]any{"version": "2026-11-01", "sha256": "x"})
	assert.Equal(t, http.StatusConflict, notViewed.Status)

	review := alice.do("GET", base, nil)
	require.Equal(t, http.StatusOK, review.Status, review.Raw)
	assert.Len(t, list(review.Body["apps"]), 2, "the review lists what moves (rule 7)")
	assert.Len(t, list(review.Body["members"]), 2)
	assert.Len(t, list(review.Body["data"]), 3)
	assert.Len(t, list(review.Body["orders"]), 2)

	ag := alice.do("GET", "/v1/agreement", nil)
	require.Equal(t, http.StatusOK, ag.Status)
	wrong := alice.do("POST", base+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": "0000"})
	assert.Equal(t, "AGREEMENT_VERSION_MISMATCH", wrong.Code())
	acc := alice.do("POST", base+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]})
	require.Equal(t, http.StatusOK, acc.Status, acc.Raw)
	assert.Equal(t, "AWAITING_TARGET", acc.Body["state"])

	targets := alice.do("GET", base+"/targets", nil)
	require.Equal(t, http.StatusOK, targets.Status)
	var existing []string
	for _, e := range list(targets.Body["existing"]) {
		existing = append(existing, str(obj(e)["accountId"]))
	}
	assert.Equal(t, []string{"dev-alice-1"}, existing, "only onboarded accounts of her login holding no other subject (rule 8)")
	bad := alice.do("PUT", base+"/target", map[string]any{"mode": "existing", "accountId": "dev-alice-3"})
	assert.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	assert.Equal(t, "TARGET_NOT_ELIGIBLE", bad.Code())
	sel := alice.do("PUT", base+"/target", map[string]any{"mode": "existing", "accountId": "dev-alice-1"})
	require.Equal(t, http.StatusOK, sel.Status, sel.Raw)

	confirmedAt := time.Now()
	commit := alice.do("POST", base+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "commit-1")
	require.Equal(t, http.StatusAccepted, commit.Status, commit.Raw)
	again2 := alice.do("POST", base+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "commit-1")
	assert.Equal(t, commit.Raw, again2.Raw, "repeating the commit returns the same result")

	eventually(t, 60*time.Second, "the acme batch to be COMMITTED", func() bool {
		return batchOf(t, alice.do("GET", "/v1/migrations/"+mid, nil), "subj-acme/developer")["state"] == "COMMITTED"
	})
	t.Logf("confirmation to COMMITTED: %s", time.Since(confirmedAt).Round(time.Millisecond))
	done := batchOf(t, alice.do("GET", "/v1/migrations/"+mid, nil), "subj-acme/developer")
	assert.Equal(t, map[string]any{"moved": float64(7), "total": float64(7)}, done["progress"])
	assert.Equal(t, "dev-alice-1", done["targetAccountId"])

	held := alice.do("GET", "/v1/targets/developer/accounts/dev-alice-1", nil)
	require.Equal(t, http.StatusOK, held.Status, held.Raw)
	assert.Len(t, list(held.Body["apps"]), 2, "the migrated data is on the target platform (rule 10)")
	assert.Len(t, list(held.Body["data"]), 3)
	assert.Len(t, list(held.Body["orders"]), 2)
	assert.Equal(t, "subj-acme", held.Body["subjectId"])
	bob := developer(t, s, "microapp", "ma-2002", "bob@example.com")
	assert.Equal(t, http.StatusNotFound, bob.do("GET", "/v1/targets/developer/accounts/dev-alice-1", nil).Status, "not bob's account")
	assert.Equal(t, http.StatusNotFound, bob.do("GET", "/v1/migrations/"+mid, nil).Status, "not bob's migration")

	// The second batch goes to a new account; then the migration completes.
	bright := batchOf(t, alice.do("GET", "/v1/migrations/"+mid, nil), "subj-bright/developer")
	base2 := "/v1/migrations/" + mid + "/batches/" + str(bright["batchId"])
	require.Equal(t, http.StatusOK, alice.do("POST", base2+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]}).Status)
	require.Equal(t, http.StatusOK, alice.do("PUT", base2+"/target", map[string]any{"mode": "new"}).Status)
	require.Equal(t, http.StatusAccepted, alice.do("POST", base2+"/commit", map[string]any{"confirm": true}).Status)
	eventually(t, 60*time.Second, "the migration to be COMPLETED", func() bool {
		return alice.do("GET", "/v1/migrations/"+mid, nil).Body["state"] == "COMPLETED"
	})

	exec := waitExecution(t, s, str(start.Body["executionArn"]), 60*time.Second)
	require.Equal(t, "SUCCEEDED", exec["status"], "%v", exec)
	var out struct {
		MigrationID string `json:"migrationId"`
		State       string `json:"state"`
		Batches     []struct {
			BatchKey, State, TargetPlatform, TargetAccountID string
		} `json:"batches"`
	}
	require.NoError(t, json.Unmarshal([]byte(str(exec["output"])), &out))
	assert.Equal(t, mid, out.MigrationID)
	assert.Equal(t, "COMPLETED", out.State)
	require.Len(t, out.Batches, 2)
	for _, b := range out.Batches {
		assert.Equal(t, "COMMITTED", b.State)
		assert.Equal(t, "developer", b.TargetPlatform)
		assert.NotEmpty(t, b.TargetAccountID)
	}
	// The account is free again: nothing is left to migrate.
	assert.Equal(t, false, alice.do("GET", "/v1/plan", nil).Body["eligible"])
}
