package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// An item held by someone else stops the move past the point of no return:
// the batch stalls, COMMITTING with MOVE_STALLED, and the execution ends
// without failing (the move only goes forward; ops own it now). stuck names
// it; resume refuses to move anything while the conflict stands; once ops
// repaired the item, resume finishes the move through the domain, and the
// migration ends cleanly.
func TestStalledMoveResumedByOps(t *testing.T) {
	s := localStack(t)
	c := awsClients(s)
	erin := newDeveloper(t, s, "microapp", "ma-5005", "erin@example.com")
	const name = "ops-erin-redrive"
	arn := startExecution(t, s, c, name, map[string]any{
		"source": map[string]any{"platform": "microapp", "accountId": "ma-5005"}, "requestedBy": "ops:test",
		"agreement": map[string]any{"version": migration.AgreementVersion, "acceptedBy": "erin@example.com", "evidence": "ticket-7"},
		"targets":   map[string]any{"subj-bright/developer": map[string]any{"mode": "new"}},
	})
	b := batchIn(t, c, name, migration.AwaitingConfirmation, time.Minute)

	// Someone moved one of erin's apps by hand; then erin confirms.
	setItemHolder(t, c.db, s.TableName, "app#app-erin-3", "src:microapp:ma-2002")
	erin.do("POST", "/v1/migrations/"+name+"/batches/"+b.BatchID+"/commit", map[string]any{"confirm": true}, 202)
	ended := waitExecution(t, c, arn, time.Minute)
	require.Equal(t, "SUCCEEDED", string(ended.Status), "a stalled batch fails no execution")
	cur, err := c.store.Batch(t.Context(), name, b.BatchID)
	require.NoError(t, err)
	require.Equal(t, migration.Committing, cur.State, "past the point of no return, the move only goes forward")
	require.NotNil(t, cur.Error)
	assert.Equal(t, migration.CodeMoveStalled, cur.Error.Code)

	code, out := opsctl(t, s.AWSEndpoint, "stuck")
	assert.Equal(t, exitFindings, code, out)
	assert.Regexp(t, `MOVE_STALLED\s+microapp:ma-5005\s+`+name+`.*opsctl resume --migration-id `+name, out)

	code, out = opsctl(t, s.AWSEndpoint, "show", "--account", "microapp:ma-5005")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "ops: moving stopped (MOVE_STALLED); fix the cause, then opsctl resume --migration-id "+name)

	// The reconciliation check sees the hand-moved item: its index entry still
	// files it under erin.
	code, out = opsctl(t, s.AWSEndpoint, "reconcile", "--json")
	assert.Equal(t, exitFindings, code, out)
	var rep reconcile.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.True(t, rep.Has(reconcile.ItemIndexMismatch, "app#app-erin-3"), out)

	code, out = opsctl(t, s.AWSEndpoint, "resume", "--migration-id", name)
	assert.Equal(t, exitFindings, code, out)
	assert.Contains(t, out, "move failed: ASSET_CONFLICT")
	assert.Contains(t, out, "1 batch(es) still open")

	// Ops repair the item, then resume.
	setItemHolder(t, c.db, s.TableName, "app#app-erin-3", "src:microapp:ma-5005")
	code, out = opsctl(t, s.AWSEndpoint, "resume", "--migration-id", name)
	require.Equal(t, exitOK, code, out)
	assert.Regexp(t, b.BatchID+` subj-bright/developer: moved \d+ of \d+, COMMITTED`, out)
	assert.Contains(t, out, "migration "+name+" is COMPLETED; the account is free to start again")

	done, err := c.store.Batch(t.Context(), name, b.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Committed, done.State)
	assert.Equal(t, done.Total, done.Moved, "every item moved, once")
	m, err := c.store.Migration(t.Context(), name)
	require.NoError(t, err)
	assert.True(t, m.Summarized, "the migration was closed: the account is free")

	code, out = opsctl(t, s.AWSEndpoint, "reconcile", "--json")
	require.Contains(t, []int{exitOK, exitFindings}, code, out)
	rep = reconcile.Report{}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	for _, v := range rep.Violations {
		assert.NotContains(t, v.ID, "erin", "repaired and moved: %v", v)
		assert.NotContains(t, v.ID, name, "repaired and moved: %v", v)
	}

	code, out = opsctl(t, s.AWSEndpoint, "stuck", "--all", "--json")
	require.Contains(t, []int{exitOK, exitFindings}, code, out)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, name) {
			assert.Contains(t, line, `"resolved":true`, line)
		}
	}
	code, out = opsctl(t, s.AWSEndpoint, "stuck")
	assert.NotContains(t, out, name, "dealt with: no longer listed")

	// A second resume changes nothing: the moves are done.
	code, out = opsctl(t, s.AWSEndpoint, "resume", "--migration-id", name)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "COMMITTED, nothing to do")
}

// An execution that failed before its migration began changed nothing: the
// fallback starts its input afresh under a new name, and follows it.
func TestRedriveFallbackRestartsAnExecutionThatNeverBegan(t *testing.T) {
	s := localStack(t)
	c := awsClients(s)
	arn := startExecution(t, s, c, "late-account-1", map[string]any{"source": map[string]any{"platform": "microapp", "accountId": "ma-late"}, "requestedBy": "ops:test"})
	require.Equal(t, "FAILED", string(waitExecution(t, c, arn, time.Minute).Status))

	importAccounts(t, c, "late")
	code, out := opsctl(t, s.AWSEndpoint, "redrive", "--execution-arn", arn)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "started it afresh with the same input as late-account-1-r2")
	assert.Contains(t, out, "late-account-1-r2: execution RUNNING, migration late-account-1-r2 IN_PROGRESS, subj-late/developer AWAITING_AGREEMENT")

	code, out = opsctl(t, s.AWSEndpoint, "redrive", "--execution-arn", strings.TrimSuffix(arn, "late-account-1")+"late-account-1-r2")
	assert.Equal(t, exitError, code)
	assert.Contains(t, out, "execution is RUNNING: only a FAILED, TIMED_OUT or ABORTED execution can be redriven")
}

// The move of carol's partner batch stalls on a hand-moved service while her
// two developer batches wait for a target: the stall strands neither of them
// (the execution runs on, their waits stay parked). resume finishes the move
// and leaves the waiting batches unless asked; resume --close-waiting ends them
// as FAILED, which ends the workflow and frees the account, which can then
// start again with what is left.
func TestStalledMoveLeavesSiblingsWaiting(t *testing.T) {
	s := localStack(t)
	c := awsClients(s)
	const name = "ops-carol-stopped"
	setItemHolder(t, c.db, s.TableName, "service#svc-cloud-ops", "src:microapp:ma-2002")
	arn := startExecution(t, s, c, name, map[string]any{
		"source": map[string]any{"platform": "douyin_open_legacy", "accountId": "dl-3003"}, "requestedBy": "ops:test",
		"agreement": map[string]any{"version": migration.AgreementVersion, "acceptedBy": "carol@example.com", "evidence": "ticket-9"},
		"targets":   map[string]any{"subj-cloud/partner": map[string]any{"mode": "existing", "accountId": "par-carol-1"}},
		"confirm":   true,
	})
	eventually(t, time.Minute, "the partner batch to stall", func() bool {
		bs, err := c.store.Batches(t.Context(), name)
		require.NoError(t, err)
		for _, b := range bs {
			if b.BatchKey == "subj-cloud/partner" {
				return b.State == migration.Committing && b.Error != nil && b.Error.Code == migration.CodeMoveStalled
			}
		}
		return false
	})
	batchIn(t, c, name, migration.AwaitingTarget, 5*time.Second)
	desc, err := c.sf.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	require.NoError(t, err)
	assert.Equal(t, "RUNNING", string(desc.Status), "the siblings still wait on carol")

	code, out := opsctl(t, s.AWSEndpoint, "stuck")
	assert.Equal(t, exitFindings, code, out)
	assert.Contains(t, out, "MOVE_STALLED")

	setItemHolder(t, c.db, s.TableName, "service#svc-cloud-ops", "src:douyin_open_legacy:dl-3003")
	code, out = opsctl(t, s.AWSEndpoint, "resume", "--migration-id", name)
	assert.Equal(t, exitFindings, code, out)
	assert.Regexp(t, `subj-cloud/partner: moved \d+ of \d+, COMMITTED`, out)
	assert.Contains(t, out, "subj-acme/developer: AWAITING_TARGET, left as is (add --close-waiting to end it)")
	assert.Contains(t, out, "2 batch(es) still open: the migration stays active")

	code, out = opsctl(t, s.AWSEndpoint, "resume", "--migration-id", name, "--close-waiting")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "subj-cloud/partner: COMMITTED, nothing to do")
	assert.Contains(t, out, "subj-acme/developer: was AWAITING_TARGET, now FAILED (WORKFLOW_STOPPED); nothing moved")
	assert.Contains(t, out, "subj-cloud/developer: was AWAITING_TARGET, now FAILED (WORKFLOW_STOPPED); nothing moved")
	assert.Contains(t, out, "migration "+name+" is COMPLETED; the account is free to start again")
	bs, err := c.store.Batches(t.Context(), name)
	require.NoError(t, err)
	for _, b := range bs {
		if b.BatchKey == "subj-cloud/partner" {
			assert.Equal(t, migration.Committed, b.State)
			continue
		}
		assert.Equal(t, migration.Failed, b.State, b.BatchKey)
		assert.Equal(t, migration.Code("WORKFLOW_STOPPED"), b.Error.Code)
	}

	code, out = opsctl(t, s.AWSEndpoint, "audit", "--account", "douyin_open_legacy:dl-3003")
	require.Equal(t, exitOK, code, out)
	assert.Equal(t, 2, strings.Count(out, `"event":"BATCH_FAILED"`), out)
	assert.Contains(t, out, `"event":"MIGRATION_ENDED"`)

	// The account is free: what is left starts again, waiting on carol.
	results := filepath.Join(t.TempDir(), "results.jsonl")
	code, out = opsctl(t, s.AWSEndpoint, "bulk-start", "--accounts", writeFile(t, "one.csv", "platform,accountId\ndouyin_open_legacy,dl-3003\n"), "--results", results)
	require.Equal(t, exitOK, code, out)
	rs, err := readResults(results)
	require.NoError(t, err)
	assert.Equal(t, "IN_PROGRESS", rs[0].State)
	assert.Empty(t, rs[0].ActiveMigrationID, "a new migration, not the stopped one")
	assert.Len(t, rs[0].Batches, 2, "the partner batch moved already: %v", rs[0].Batches)
}
