package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
)

// manySubjects is a snapshot with one account holding one certified
// mini-program under each of n subjects: n batches.
func manySubjects(t *testing.T, n int) []byte {
	t.Helper()
	var subjects, apps []map[string]any
	for i := 0; i < n; i++ {
		subjects = append(subjects, map[string]any{"id": fmt.Sprintf("subj-%02d", i), "name": fmt.Sprintf("Subject %02d Co., Ltd.", i), "kind": "company", "certified": true})
		apps = append(apps, map[string]any{"id": fmt.Sprintf("app-%02d", i), "platform": "microapp", "kind": "miniprogram", "name": fmt.Sprintf("App %02d", i),
			"creatorAccountId": "ma-many", "subjectId": fmt.Sprintf("subj-%02d", i), "certified": true})
	}
	snap, err := json.Marshal(map[string]any{"version": 1, "subjects": subjects, "apps": apps,
		"accounts": []map[string]any{{"platform": "microapp", "id": "ma-many", "login": "many@example.com", "subjectId": "subj-00"}}})
	require.NoError(t, err)
	return snap
}

// walk takes one batch through agreement, a new target and the confirmation.
func (c *client) walk(mid, bid string) {
	c.t.Helper()
	base := "/v1/migrations/" + mid + "/batches/" + bid
	ag := c.do("GET", "/v1/agreement", nil)
	require.Equal(c.t, http.StatusOK, ag.Status, ag.Raw)
	acc := c.do("POST", base+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]})
	require.Equal(c.t, http.StatusOK, acc.Status, acc.Raw)
	sel := c.do("PUT", base+"/target", map[string]any{"mode": "new"})
	require.Equal(c.t, http.StatusOK, sel.Status, sel.Raw)
	com := c.do("POST", base+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "commit-"+bid)
	require.Equal(c.t, http.StatusAccepted, com.Status, com.Raw)
}

func (c *client) batchState(mid, key string) map[string]any {
	c.t.Helper()
	return batchOf(c.t, c.do("GET", "/v1/migrations/"+mid, nil), key)
}

// Every batch has its wait, its deadline and its mover from the start,
// whatever the count (issue: more batches than run at once). With the old
// Map (at most 10 branches) the 50th batch, confirmed over HTTP, sat in
// COMMITTING until a sibling ended.
func TestEveryBatchMovesWhileSiblingsWait(t *testing.T) {
	const n = 50
	s := startStack(t, nil, manySubjects(t, n))
	dev := developer(t, s, "microapp", "ma-many", "many@example.com")
	start := dev.do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "start-many")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	status := dev.do("GET", "/v1/migrations/"+mid, nil)
	require.Len(t, list(status.Body["batches"]), n)
	expires := map[string]bool{}
	for _, b := range list(status.Body["batches"]) {
		expires[str(obj(b)["expiresAt"])] = true
	}
	assert.Len(t, expires, 1, "one deadline, the same for every batch of the migration")
	assert.NotContains(t, expires, "", "every waiting batch shows its deadline")

	last := fmt.Sprintf("subj-%02d/developer", n-1)
	walked := time.Now()
	dev.walk(mid, str(dev.batchState(mid, last)["batchId"]))
	confirmed := time.Now()
	t.Logf("agreement, target and confirmation over HTTP: %s", confirmed.Sub(walked).Round(time.Millisecond))
	eventually(t, 60*time.Second, "the last batch to be COMMITTED while 49 wait", func() bool {
		return dev.batchState(mid, last)["state"] == "COMMITTED"
	})
	t.Logf("confirmation to COMMITTED with %d siblings waiting: %s", n-1, time.Since(confirmed).Round(time.Millisecond))
	waiting := 0
	for _, b := range list(dev.do("GET", "/v1/migrations/"+mid, nil).Body["batches"]) {
		if str(obj(b)["state"]) == "AWAITING_AGREEMENT" {
			waiting++
		}
	}
	assert.Equal(t, n-1, waiting, "the siblings still wait")
	first := "subj-00/developer"
	dev.walk(mid, str(dev.batchState(mid, first)["batchId"]))
	confirmed = time.Now()
	eventually(t, 60*time.Second, "a second batch to be COMMITTED too", func() bool {
		return dev.batchState(mid, first)["state"] == "COMMITTED"
	})
	t.Logf("the second batch: confirmation to COMMITTED in %s", time.Since(confirmed).Round(time.Millisecond))
}

// One deadline for all three waits (rule 13): a batch that has not passed the
// point of no return PendingTimeoutSeconds after it was created is EXPIRED,
// however its time was spread over the waits. Before, each wait had the whole
// timeout again: this batch would have lived about twice as long.
func TestOneDeadlineForAllWaits(t *testing.T) {
	const timeout = 12
	s := startStack(t, map[string]string{"PendingTimeoutSeconds": fmt.Sprint(timeout)}, nil)
	alice := developer(t, s, "microapp", "ma-1001", "alice@example.com")
	start := alice.do("POST", "/v1/migrations", map[string]any{"batchKeys": []string{"subj-acme/developer"}}, "Idempotency-Key", "start-deadline")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	b := alice.batchState(mid, "subj-acme/developer")
	expiresAt, err := time.Parse(time.RFC3339, str(b["expiresAt"]))
	require.NoError(t, err, "the status shows expiresAt: %v", b)
	base := "/v1/migrations/" + mid + "/batches/" + str(b["batchId"])

	// Spend most of the time in the first two waits.
	time.Sleep(time.Until(expiresAt.Add(-timeout * time.Second / 2)))
	ag := alice.do("GET", "/v1/agreement", nil)
	require.Equal(t, http.StatusOK, alice.do("POST", base+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]}).Status)
	time.Sleep(time.Until(expiresAt.Add(-3 * time.Second)))
	require.Equal(t, http.StatusOK, alice.do("PUT", base+"/target", map[string]any{"mode": "new"}).Status)

	eventually(t, time.Until(expiresAt)+8*time.Second, "the batch to expire at its one deadline", func() bool {
		return alice.batchState(mid, "subj-acme/developer")["state"] == "EXPIRED"
	})
	ended := alice.batchState(mid, "subj-acme/developer")
	assert.Equal(t, "EXPIRED", obj(ended["error"])["code"])
	assert.Empty(t, ended["expiresAt"], "an ended batch no longer shows a deadline")
	late := alice.do("POST", base+"/commit", map[string]any{"confirm": true})
	assert.Equal(t, http.StatusConflict, late.Status, late.Raw)
	exec := waitExecution(t, s, str(start.Body["executionArn"]), 30*time.Second)
	assert.Equal(t, "SUCCEEDED", exec["status"])
}

// A move that fails for good stalls its batch in COMMITTING (the move only
// goes forward) with the error shown, and strands nobody: the sibling batch is
// still committed, and ops resume the stalled one once the cause is fixed.
// Before, Move had no Catch: the Map failed and every sibling lost its wait.
func TestStalledMoveStrandsNoSibling(t *testing.T) {
	s := sharedDemoStack(t)
	alice := developer(t, s, "microapp", "ma-1001", "alice@example.com")
	start := alice.do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "start-stall")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	acme := str(alice.batchState(mid, "subj-acme/developer")["batchId"])

	// The index still files app-acme-news under alice while the item itself
	// says another account holds it: the move of that chunk can never succeed.
	table := s.TableName
	setHolder := func(holder string) {
		awsCLI(t, s, "dynamodb", "update-item", "--table-name", table,
			"--key", `{"pk":{"S":"ITEM#app#app-acme-news"},"sk":{"S":"#"}}`,
			"--update-expression", "SET holder = :h", "--expression-attribute-values", `{":h":{"S":"`+holder+`"}}`)
	}
	orig := awsCLI(t, s, "dynamodb", "get-item", "--table-name", table, "--key", `{"pk":{"S":"ITEM#app#app-acme-news"},"sk":{"S":"#"}}`)
	holder := str(obj(obj(orig["Item"])["holder"])["S"])
	require.NotEmpty(t, holder)
	setHolder("developer:dev-someone-else:x")

	alice.walk(mid, acme)
	eventually(t, 90*time.Second, "the acme batch to stall", func() bool {
		b := alice.batchState(mid, "subj-acme/developer")
		return b["state"] == "COMMITTING" && obj(b["error"])["code"] == "MOVE_STALLED"
	})
	bright := str(alice.batchState(mid, "subj-bright/developer")["batchId"])
	alice.walk(mid, bright)
	eventually(t, 60*time.Second, "the sibling to be COMMITTED", func() bool {
		return alice.batchState(mid, "subj-bright/developer")["state"] == "COMMITTED"
	})
	ended := waitExecution(t, s, str(start.Body["executionArn"]), 60*time.Second)
	assert.Equal(t, "SUCCEEDED", ended["status"], "the execution ends; the stalled batch is ops' to resume")
	assert.Equal(t, "IN_PROGRESS", alice.do("GET", "/v1/migrations/"+mid, nil).Body["state"], "a batch still moves")

	setHolder(holder)
	out, err := opsctl(s, "resume", "--migration-id", mid)
	require.NoError(t, err, "opsctl resume: %s", out)
	done := alice.batchState(mid, "subj-acme/developer")
	assert.Equal(t, "COMMITTED", done["state"], "resumed: %s", out)
	assert.Nil(t, done["error"], "the stall is over")
	assert.Equal(t, "COMPLETED", alice.do("GET", "/v1/migrations/"+mid, nil).Body["state"])
}

// A target taken at the point of no return is a choice to make again: the
// sibling batch bound dev-alice-1 to its subject first, so the second
// confirmation is refused (422, nothing moved), the batch goes back to
// AWAITING_TARGET with the reason, and the workflow waits for a new target
// (TargetTaken → ChooseTargetAgain → AwaitTarget) within the same deadline.
func TestTakenTargetIsChosenAgainThroughTheWorkflow(t *testing.T) {
	s := startStack(t, nil, nil)
	alice := developer(t, s, "microapp", "ma-1001", "alice@example.com")
	start := alice.do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "start-taken")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	historyOnFailure(t, s, str(start.Body["executionArn"]))
	ag := alice.do("GET", "/v1/agreement", nil)
	base := func(key string) string {
		return "/v1/migrations/" + mid + "/batches/" + str(alice.batchState(mid, key)["batchId"])
	}
	for _, key := range []string{"subj-acme/developer", "subj-bright/developer"} {
		require.Equal(t, http.StatusOK, alice.do("POST", base(key)+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]}).Status)
		sel := alice.do("PUT", base(key)+"/target", map[string]any{"mode": "existing", "accountId": "dev-alice-1"})
		require.Equal(t, http.StatusOK, sel.Status, sel.Raw)
	}
	require.Equal(t, http.StatusAccepted, alice.do("POST", base("subj-acme/developer")+"/commit", map[string]any{"confirm": true}).Status)
	taken := alice.do("POST", base("subj-bright/developer")+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "commit-bright-1")
	require.Equal(t, http.StatusUnprocessableEntity, taken.Status, taken.Raw)
	assert.Equal(t, "TARGET_NOT_ELIGIBLE", taken.Code())
	bright := alice.batchState(mid, "subj-bright/developer")
	assert.Equal(t, "AWAITING_TARGET", bright["state"])
	assert.Equal(t, "TARGET_NOT_ELIGIBLE", obj(bright["lastRefusal"])["code"], "the status says why")
	assert.NotEmpty(t, bright["expiresAt"], "still within its deadline")

	// The workflow went back to the target wait: a new choice and a new
	// confirmation move the batch.
	sel := alice.do("PUT", base("subj-bright/developer")+"/target", map[string]any{"mode": "new"})
	require.Equal(t, http.StatusOK, sel.Status, sel.Raw)
	require.Equal(t, http.StatusAccepted, alice.do("POST", base("subj-bright/developer")+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "commit-bright-2").Status)
	eventually(t, 60*time.Second, "the migration to complete", func() bool {
		return alice.do("GET", "/v1/migrations/"+mid, nil).Body["state"] == "COMPLETED"
	})
	for _, key := range []string{"subj-acme/developer", "subj-bright/developer"} {
		assert.Equal(t, "COMMITTED", alice.batchState(mid, key)["state"], key)
	}
	exec := waitExecution(t, s, str(start.Body["executionArn"]), 60*time.Second)
	assert.Equal(t, "SUCCEEDED", exec["status"])
}

// historyOnFailure logs the execution's history when the test fails: the
// only way to see which state went wrong in a run nobody watched.
func historyOnFailure(t *testing.T, s *stack.Stack, arn string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		hist := awsCLI(t, s, "stepfunctions", "get-execution-history", "--execution-arn", arn)
		for _, e := range list(hist["events"]) {
			ev := obj(e)
			line := fmt.Sprintf("%v %v", ev["id"], ev["type"])
			for k, v := range ev {
				if strings.HasSuffix(k, "EventDetails") {
					line += fmt.Sprintf(" %v", v)
				}
			}
			t.Log(line)
		}
	})
}
