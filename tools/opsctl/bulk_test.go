package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// A cohort of 200 accounts, plus 5 that are not loaded yet: every loaded
// account ends up waiting on its developer; the 5 fail with NOT_FOUND; once
// they are loaded, --retry-from retries exactly the failed lines and leaves
// every other line as it was.
func TestBulkStartCohortAndRetry(t *testing.T) {
	s := localStack(t)
	c := awsClients(s)
	missing := []string{"m000", "m001", "m002", "m003", "m004"}
	var csv strings.Builder
	csv.WriteString("platform,accountId\n")
	for i := range cohortSize {
		fmt.Fprintf(&csv, "microapp,ma-c%03d\n", i)
		if i%40 == 7 { // the missing ones sit among the others
			fmt.Fprintf(&csv, "microapp,ma-%s\n", missing[i/40])
		}
	}
	accounts := writeFile(t, "cohort.csv", csv.String())
	results := filepath.Join(t.TempDir(), "results.jsonl")

	began := time.Now()
	code, out := opsctl(t, s.AWSEndpoint, "bulk-start", "--accounts", accounts, "--concurrency", "8", "--results", results,
		"--requested-by", "ops:test", "--timeout", "2m")
	took := time.Since(began)
	t.Logf("bulk-start of %d accounts took %.1fs", cohortSize+len(missing), took.Seconds())
	assert.Equal(t, exitFindings, code, "some accounts failed: %s", tail(out, 5))
	assert.Contains(t, out, "[205/205]", "plain progress lines when stdout is no terminal")

	first, err := readResults(results)
	require.NoError(t, err)
	require.Len(t, first, cohortSize+len(missing), "one line per account")
	var failedRefs []string
	for _, r := range first {
		ref := r.account().ref()
		if strings.HasPrefix(r.AccountID, "ma-m") {
			assert.Equal(t, stateFailed, r.State, ref)
			assert.Equal(t, "FAILED", r.ExecutionStatus, ref)
			assert.Contains(t, r.Error, "NOT_FOUND", ref)
			failedRefs = append(failedRefs, ref)
			continue
		}
		if r.failed() {
			// Known: moto's patched TransactWriteItems can fail under
			// concurrent writes (HTTP 500, "dictionary changed size during
			// iteration"); the retry below must pick such accounts up too.
			t.Logf("account %s failed on the local emulator: %s", ref, r.Error)
			failedRefs = append(failedRefs, ref)
			continue
		}
		assert.Equal(t, "IN_PROGRESS", r.State, ref)
		assert.Equal(t, "RUNNING", r.ExecutionStatus, ref)
		assert.Equal(t, executionName("bulk", r.account(), 1), r.MigrationID, ref)
		assert.True(t, strings.HasSuffix(r.ExecutionArn, ":"+r.MigrationID), ref)
		require.Len(t, r.Batches, 1, ref)
		assert.Equal(t, "AWAITING_AGREEMENT", r.Batches[0].State, ref)
		assert.Equal(t, "subj-"+strings.TrimPrefix(r.AccountID, "ma-")+"/developer", r.Batches[0].BatchKey, ref)
	}
	require.GreaterOrEqual(t, len(failedRefs), len(missing))
	assert.LessOrEqual(t, len(failedRefs), len(missing)+3, "more than a rare emulator failure: %v", failedRefs)

	// The store agrees: a migration per account, waiting for the agreement.
	m, err := c.store.Migration(context.Background(), first[0].MigrationID)
	require.NoError(t, err)
	assert.Equal(t, "ops:test", m.RequestedBy)

	// The missing accounts arrive; retry only what failed.
	importAccounts(t, c, missing...)
	before, err := os.ReadFile(results)
	require.NoError(t, err)
	code, out = opsctl(t, s.AWSEndpoint, "bulk-start", "--retry-from", results, "--concurrency", "8", "--requested-by", "ops:test", "--timeout", "2m")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, fmt.Sprintf("retrying %d of %d accounts", len(failedRefs), len(first)))

	after, err := readResults(results)
	require.NoError(t, err)
	require.Len(t, after, len(first), "the results file is updated in place")
	beforeLines := strings.Split(strings.TrimSpace(string(before)), "\n")
	afterRaw, err := os.ReadFile(results)
	require.NoError(t, err)
	afterLines := strings.Split(strings.TrimSpace(string(afterRaw)), "\n")
	var retried []string
	for i, r := range after {
		if afterLines[i] != beforeLines[i] {
			retried = append(retried, r.account().ref())
		}
		assert.Equal(t, first[i].account(), r.account(), "same order")
		assert.Equal(t, "IN_PROGRESS", r.State, "%s: %s", r.account().ref(), r.Error)
		assert.Empty(t, r.Error)
	}
	sort.Strings(retried)
	sort.Strings(failedRefs)
	assert.Equal(t, failedRefs, retried, "exactly the failed lines were retried")
	for _, r := range after {
		if strings.HasPrefix(r.AccountID, "ma-m") {
			assert.Equal(t, 2, r.Attempt, "a failed execution's name is taken: the retry runs under a new one")
			assert.Equal(t, executionName("bulk", r.account(), 2), r.MigrationID)
		}
	}

	// Nothing failed now: a further retry has nothing to do.
	code, out = opsctl(t, s.AWSEndpoint, "bulk-start", "--retry-from", results)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, fmt.Sprintf("retrying 0 of %d accounts", len(first)))

	// Running (part of) the cohort again finds the same executions.
	again := filepath.Join(t.TempDir(), "again.jsonl")
	code, out = opsctl(t, s.AWSEndpoint, "bulk-start", "--accounts", writeFile(t, "three.json",
		`[{"platform":"microapp","accountId":"ma-c000"},{"platform":"microapp","accountId":"ma-c001"},{"platform":"microapp","accountId":"ma-c199"}]`),
		"--results", again, "--requested-by", "ops:test")
	require.Equal(t, exitOK, code, out)
	rerun, err := readResults(again)
	require.NoError(t, err)
	byRef := map[string]result{}
	for _, r := range after {
		byRef[r.account().ref()] = r
	}
	for _, r := range rerun {
		assert.Equal(t, byRef[r.account().ref()].ExecutionArn, r.ExecutionArn, "the same execution, not a second one")
		assert.Equal(t, "IN_PROGRESS", r.State)
	}

	// Ops see the cohort waiting, oldest first.
	code, out = opsctl(t, s.AWSEndpoint, "waiting", "--limit", "3", "--json")
	require.Equal(t, exitOK, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], `"state":"AWAITING_AGREEMENT"`)
	assert.Contains(t, lines[0], `"nextAction":"developer: ACCEPT_AGREEMENT"`)
	code, out = opsctl(t, s.AWSEndpoint, "waiting", "--older-than", "72h")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "0 batch(es) waiting on developers for longer than 72h0m0s")
}

// An account claimed by a migration whose first step failed before creating
// it would turn every new execution away; bulk-start releases such a claim
// when its execution has provably ended, and starts the account afresh.
func TestBulkStartReleasesStaleClaim(t *testing.T) {
	s := localStack(t)
	c := awsClients(s)
	src := migration.AccountRef{Platform: "microapp", ID: "ma-s001"}
	// An execution that ended without creating its migration...
	dead := startExecution(t, s, c, "dead-claim-1", map[string]any{"source": map[string]any{"platform": "microapp", "accountId": "ma-ghost"}, "requestedBy": "ops:test"})
	require.Equal(t, "FAILED", string(waitExecution(t, c, dead, time.Minute).Status))
	// ...whose claim on the account was left behind.
	active, err := c.store.ClaimActive(context.Background(), src, "dead-claim-1")
	require.NoError(t, err)
	require.Equal(t, "dead-claim-1", active)

	results := filepath.Join(t.TempDir(), "results.jsonl")
	code, out := opsctl(t, s.AWSEndpoint, "bulk-start", "--accounts", writeFile(t, "one.csv", "platform,accountId\nmicroapp,ma-s001\n"), "--results", results)
	require.Equal(t, exitOK, code, out)
	rs, err := readResults(results)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "IN_PROGRESS", rs[0].State, rs[0].Error)
	assert.Equal(t, 2, rs[0].Attempt, "the first attempt met the stale claim")
	latest, err := c.store.LatestMigration(context.Background(), src)
	require.NoError(t, err)
	assert.Equal(t, rs[0].MigrationID, latest.MigrationID)
	// The release went through the domain and left its audit event.
	evs, _, err := c.store.AuditTrail(context.Background(), src, "", 1000)
	require.NoError(t, err)
	var released []migration.AuditEvent
	for _, ev := range evs {
		if ev.Event == migration.EventClaimReleased {
			released = append(released, ev)
		}
	}
	require.Len(t, released, 1, "one audit event for the one release")
	assert.Equal(t, "dead-claim-1", released[0].MigrationID)
	assert.Equal(t, "ops:opsctl", released[0].Actor)
	assert.Contains(t, released[0].Detail["reason"], "ended FAILED before creating its migration")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
