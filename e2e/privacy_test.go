package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
)

// privacySeed is the demo snapshot with frank, who migrates here, and gina,
// whose target accounts frank tries to name.
func privacySeed(t *testing.T) []byte {
	t.Helper()
	var snap map[string]any
	require.NoError(t, json.Unmarshal(demo.Snapshot, &snap))
	push := func(key string, v map[string]any) { snap[key] = append(snap[key].([]any), v) }
	push("subjects", map[string]any{"id": "subj-frank", "name": "Frank Foods Co., Ltd.", "kind": "company", "certified": true})
	push("subjects", map[string]any{"id": "subj-gina", "name": "Gina Games Co., Ltd.", "kind": "company", "certified": true})
	push("accounts", map[string]any{"platform": "microapp", "id": "ma-6001", "login": "frank@example.com", "subjectId": "subj-frank"})
	push("accounts", map[string]any{"platform": "microapp", "id": "ma-6002", "login": "gina@example.com", "subjectId": "subj-gina"})
	for _, id := range []string{"app-frank-1", "app-frank-2"} {
		push("apps", map[string]any{"id": id, "platform": "microapp", "kind": "miniprogram", "name": id, "creatorAccountId": "ma-6001", "subjectId": "subj-frank", "certified": true})
	}
	push("apps", map[string]any{"id": "app-gina-1", "platform": "microapp", "kind": "miniprogram", "name": "Gina", "creatorAccountId": "ma-6002", "subjectId": "subj-gina", "certified": true})
	push("targetAccounts", map[string]any{"platform": "developer", "id": "dev-frank-1", "login": "frank@example.com", "onboarding": "completed"})
	push("targetAccounts", map[string]any{"platform": "developer", "id": "dev-gina-1", "login": "gina@example.com", "onboarding": "completed", "subjectId": "subj-gina"})
	push("targetAccounts", map[string]any{"platform": "developer", "id": "dev-gina-2", "login": "gina@example.com", "onboarding": "none"})
	b, err := json.Marshal(snap)
	require.NoError(t, err)
	return b
}

// The privacy and abuse work, from outside, on one stack whose routes
// without a token take one request a second (five at once):
//   - a target id that does not exist and one of another login get the same
//     answer;
//   - a flood on GET / is answered 429 while frank's migration commits;
//   - opsctl erase leaves no login, IP or user agent of frank in any table,
//     reconcile stays clean and his receipt's hash is the one issued before.
func TestPrivacyAndLimitsOnTheLocalStack(t *testing.T) {
	s := startStack(t, map[string]string{"PublicRouteRateLimit": "1", "PublicRouteBurstLimit": "5"}, privacySeed(t))
	const ua = "frank-browser/1.0"
	frank := developer(t, s, "microapp", "ma-6001", "frank@example.com")
	do := func(method, path string, body any, headers ...string) response {
		return frank.do(method, path, body, append([]string{"User-Agent", ua}, headers...)...)
	}

	start := do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "privacy-start")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	bid := str(obj(list(start.Body["batches"])[0])["batchId"])
	batch := "/v1/migrations/" + mid + "/batches/" + bid
	eventually(t, 60*time.Second, "the batch waits for its agreement", func() bool {
		return str(batchOf(t, do("GET", "/v1/migrations/"+mid, nil), "subj-frank/developer")["state"]) == "AWAITING_AGREEMENT"
	})
	ag := do("GET", "/v1/agreement", nil)
	require.Equal(t, http.StatusOK, ag.Status, ag.Raw)
	require.Equal(t, http.StatusOK, do("POST", batch+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]},
		"Idempotency-Key", "privacy-accept").Status)

	t.Run("one answer for a missing target and another login's", func(t *testing.T) {
		answers := map[string]response{}
		for i, id := range []string{"dev-nope-9", "dev-gina-1", "dev-gina-2"} {
			answers[id] = do("PUT", batch+"/target", map[string]any{"mode": "existing", "accountId": id}, "Idempotency-Key", "privacy-target-"+string(rune('a'+i)))
		}
		want := answers["dev-nope-9"]
		assert.Equal(t, http.StatusUnprocessableEntity, want.Status, want.Raw)
		assert.Equal(t, "TARGET_NOT_ELIGIBLE", want.Code())
		for id, got := range answers {
			assert.Equal(t, want.Status, got.Status, id)
			assert.Equal(t, obj(want.Body["error"])["message"], obj(got.Body["error"])["message"], "%s: the same words", id)
			assert.NotContains(t, got.Raw, id, "the answer does not repeat the id")
		}
	})
	chosen := do("PUT", batch+"/target", map[string]any{"mode": "existing", "accountId": "dev-frank-1"}, "Idempotency-Key", "privacy-target-frank")
	require.Equal(t, http.StatusOK, chosen.Status, chosen.Raw)

	t.Run("a flood on GET / is throttled while the migration commits", func(t *testing.T) {
		var ok, throttled, other atomic.Int64
		stop := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		end := func() { once.Do(func() { close(stop) }); wg.Wait() }
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := http.Get(s.APIURL + "/")
					if err != nil {
						other.Add(1)
						continue
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					switch {
					case resp.StatusCode == http.StatusOK:
						ok.Add(1)
					case resp.StatusCode == http.StatusTooManyRequests && strings.TrimSpace(string(body)) == `{"message":"Too Many Requests"}`:
						throttled.Add(1)
					default:
						other.Add(1)
					}
				}
			}()
		}
		defer end()
		eventually(t, 30*time.Second, "the flood is being throttled", func() bool { return throttled.Load() >= 20 })

		commit := do("POST", batch+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "privacy-commit")
		require.Equal(t, http.StatusAccepted, commit.Status, commit.Raw)
		eventually(t, 120*time.Second, "the batch commits under the flood", func() bool {
			st := do("GET", "/v1/migrations/"+mid, nil)
			require.NotEqual(t, http.StatusTooManyRequests, st.Status, "the developer's routes keep their own limits")
			return str(batchOf(t, st, "subj-frank/developer")["state"]) == "COMMITTED"
		})
		end()
		assert.Positive(t, throttled.Load(), "answered 429")
		assert.LessOrEqual(t, ok.Load(), throttled.Load(), "most of the flood never reached the function")
		assert.Zero(t, other.Load(), "every answer was the page or 429")
	})

	t.Run("erase leaves no login, IP or user agent of frank", func(t *testing.T) {
		// The workflow ends the migration (its account's claim freed): an
		// erasure waits for that.
		ended := waitExecution(t, s, str(start.Body["executionArn"]), 90*time.Second)
		require.Equal(t, "SUCCEEDED", ended["status"])
		before := do("GET", batch+"/receipt", nil)
		require.Equal(t, http.StatusOK, before.Status, before.Raw)
		rows := tableRows(t, s)
		require.Positive(t, countRows(rows, "frank@example.com"), "the control: his login is there")
		require.Positive(t, countRows(rows, ua), "and his user agent")

		dry, err := opsctl(s, "erase", "--account", "microapp:ma-6001", "--reason", "PRIV-7", "--dry-run")
		require.NoError(t, err, dry)
		assert.Contains(t, dry, `"dryRun":true`)
		assert.Equal(t, rows, tableRows(t, s), "a dry run changes nothing")

		out, err := opsctl(s, "erase", "--account", "microapp:ma-6001", "--reason", "PRIV-7")
		require.NoError(t, err, out)
		after := tableRows(t, s)
		assert.Zero(t, countRows(after, "frank@example.com"), "no login of his in any table")
		assert.Zero(t, countRows(after, ua), "no user agent of his")
		for _, r := range after {
			if strings.Contains(r, "audit#microapp:ma-6001") {
				assert.NotContains(t, r, "sourceip", "no IP in his audit trail")
			}
		}
		assert.Positive(t, countRows(after, "gina@example.com"), "gina's login stays")

		rec, err := opsctl(s, "reconcile")
		assert.NoError(t, err, "reconcile stays clean: %s", rec)
		again := do("GET", batch+"/receipt", nil)
		require.Equal(t, http.StatusOK, again.Status, again.Raw)
		assert.Equal(t, before.Body["sha256"], again.Body["sha256"], "the receipt still verifies: its hash covers what moved")
		trail, err := opsctl(s, "audit", "--account", "microapp:ma-6001")
		require.NoError(t, err, trail)
		assert.Contains(t, trail, `"PERSONAL_DATA_ERASED"`, "the erasure is audited")
		assert.Contains(t, trail, `"PRIV-7"`)
	})
}

// tableRows reads both tables whole, each item as lower-case JSON.
func tableRows(t *testing.T, s *stack.Stack) []string {
	t.Helper()
	db := stacktest.DynamoDB(s)
	var out []string
	for _, table := range []string{s.TableName, s.AuditTableName} {
		for _, r := range stacktest.TableRows(t, db, table) {
			out = append(out, strings.ToLower(r))
		}
	}
	return out
}

func countRows(rows []string, what string) int {
	n := 0
	for _, r := range rows {
		if strings.Contains(r, strings.ToLower(what)) {
			n++
		}
	}
	return n
}
