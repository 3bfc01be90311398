package dynamostore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// Item 15(b): an account that needs no migration gets the same answer each
// time it asks, and one execution, not one per click.
func TestRepeatedStartsWithNothingToMigrate(t *testing.T) {
	snap := newFixture().subject("subj-a", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").build(t)
	e := newEnv(t, snap)
	st := &countingStarter{}
	e.m.Starter = st
	first, err := e.m.Start(e.ctx, alice, nil)
	require.NoError(t, err)
	assert.True(t, first.Created)
	assert.Equal(t, migration.MigrationNoMigrationNeeded, e.m.State(first.Migration, first.Batches))
	// The execution ends at once and releases the account.
	_, err = e.m.Summarize(e.ctx, first.Migration.MigrationID)
	require.NoError(t, err)
	for range 3 {
		again, err := e.m.Start(e.ctx, alice, nil)
		require.NoError(t, err)
		assert.Equal(t, first.Migration.MigrationID, again.Migration.MigrationID, "the same answer")
		assert.Equal(t, first.Migration.ExecutionArn, again.Migration.ExecutionArn)
		assert.False(t, again.Created)
	}
	assert.EqualValues(t, 1, st.calls.Load(), "one execution")
	assert.Len(t, auditEvents(t, e, alice, migration.EventMigrationStarted), 1)
}

// Item 15(c): when StartExecution fails after the migration and its batches
// are written, no batch step runs until an execution drives the migration:
// nothing can be confirmed with no workflow to move it. Asking again starts it.
func TestFailedStartExecutionLeavesNoUsableBatch(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	st := &countingStarter{}
	st.fail.Store(true)
	e.m.Starter = st
	_, err := e.m.Start(e.ctx, alice, nil)
	require.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err), "%v", err)

	m, err := e.store.LatestMigration(e.ctx, alice)
	require.NoError(t, err)
	require.Len(t, m.BatchIDs, 1, "the migration and its batch were written")
	bid := m.BatchIDs[0]
	ag, err := e.m.ViewAgreement(e.ctx, alice, migration.RequestMeta{})
	require.NoError(t, err)
	_, err = e.m.AcceptAgreement(e.ctx, alice, m.MigrationID, bid, ag.Version, ag.SHA256, migration.RequestMeta{})
	assert.Equal(t, migration.CodeWorkflowNotStarted, migration.ErrorCode(err), "%v", err)
	_, err = e.m.SelectTarget(e.ctx, alice, m.MigrationID, bid, migration.Target{Mode: migration.TargetModeNew})
	assert.Equal(t, migration.CodeWorkflowNotStarted, migration.ErrorCode(err), "%v", err)
	_, err = e.m.Confirm(e.ctx, alice, m.MigrationID, bid)
	assert.Equal(t, migration.CodeWorkflowNotStarted, migration.ErrorCode(err), "%v", err)
	b, err := e.store.Batch(e.ctx, m.MigrationID, bid)
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingAgreement, b.State, "nothing changed")

	st.fail.Store(false)
	res, err := e.m.Start(e.ctx, alice, nil)
	require.NoError(t, err)
	assert.Equal(t, m.MigrationID, res.Migration.MigrationID, "asking again starts the same migration's execution")
	assert.NotEmpty(t, res.Migration.ExecutionArn)
	_, err = e.m.AcceptAgreement(e.ctx, alice, m.MigrationID, bid, ag.Version, ag.SHA256, migration.RequestMeta{})
	assert.NoError(t, err, "with its execution the batch goes on")
}

// Item 15(a): after the commit, a batch's review lists what this batch moved,
// not all that its target holds under the same batch key (two source
// accounts of one subject migrating into one target account).
func TestReviewAfterCommitListsThisBatchOnly(t *testing.T) {
	bob := migration.AccountRef{Platform: "microapp", ID: "ma-2"}
	snap := newFixture().subject("subj-a", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").
		account("microapp", "ma-2", "alice@example.com", "subj-a").
		miniprograms("microapp", "ma-1", "subj-a", "one", 2).
		miniprograms("microapp", "ma-2", "subj-a", "two", 3).
		target("developer", "dev-1", "alice@example.com", migration.OnboardingCompleted, "").build(t)
	e := newEnv(t, snap)
	into := migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"}
	var batches []migration.Batch
	for _, src := range []migration.AccountRef{alice, bob} {
		b := e.readyBatch(t, src, "subj-a/developer", into)
		_, err := e.m.Confirm(e.ctx, src, b.MigrationID, b.BatchID)
		require.NoError(t, err)
		e.moveAll(t, b)
		batches = append(batches, b)
	}
	require.Len(t, e.items(t, migration.TargetHolder(migration.TargetDeveloper, "dev-1"), "subj-a/developer"), 15, "the target holds both batches' items")
	for i, want := range []int{6, 9} {
		src := []migration.AccountRef{alice, bob}[i]
		rv, err := e.m.ReviewBatch(e.ctx, src, batches[i].MigrationID, batches[i].BatchID, "", 1000)
		require.NoError(t, err)
		assert.Len(t, rv.Items, want, "batch %d lists only what it moved", i)
		for _, it := range rv.Items {
			assert.Equal(t, batches[i].BatchID, it.MovedBy)
		}
	}
}

// The claim on the account rides in the transaction that creates the
// migration: a second migration of a claimed account writes nothing at all
// (no batch a waiting-list or the probe could find) and names the first.
func TestLosingTheClaimWritesNothing(t *testing.T) {
	snap := aliceApps(2).build(t)
	e := newEnv(t, snap)
	first, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-first", Source: alice, RequestedBy: "ops:test"})
	require.NoError(t, err)
	require.Empty(t, first.ActiveMigrationID)
	require.Len(t, first.BatchIDs, 1)

	second, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-second", Source: alice, RequestedBy: "ops:test",
		ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:m-second"})
	require.NoError(t, err)
	assert.Equal(t, "m-first", second.ActiveMigrationID, "the answer names the migration that holds the account")
	_, err = e.store.Migration(e.ctx, "m-second")
	assert.Equal(t, migration.CodeNotFound, migration.ErrorCode(err), "no migration record: %v", err)
	bs, err := e.store.Batches(e.ctx, "m-second")
	require.NoError(t, err)
	assert.Empty(t, bs, "no batch records")
	waiting, err := e.store.BatchesInState(e.ctx, migration.AwaitingAgreement, time.Now().Add(time.Hour), 100)
	require.NoError(t, err)
	require.Len(t, waiting, 1, "only the first migration's batch waits")
	assert.Equal(t, "m-first", waiting[0].MigrationID)

	// Begin again for the first (a retried step) finds it and changes nothing;
	// the execution that calls it is attached then.
	again, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-first", Source: alice, RequestedBy: "ops:test",
		ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:m-first"})
	require.NoError(t, err)
	assert.True(t, again.Resumed)
	m, err := e.store.Migration(e.ctx, "m-first")
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:states:us-east-1:123456789012:execution:sm:m-first", m.ExecutionArn)
}

// Ending a migration frees the account in the same write; when a new start
// already took the account over (the old claim freed early), the migration
// still ends and the new claim stays.
func TestEndingAMigrationFreesTheAccount(t *testing.T) {
	snap := newFixture().subject("subj-a", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").build(t)
	e := newEnv(t, snap)
	for _, id := range []string{"m-none-1", "m-none-2"} {
		res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: id, Source: alice, RequestedBy: "ops:test"})
		require.NoError(t, err)
		require.Empty(t, res.ActiveMigrationID, "the account is free for %s", id)
		sum, err := e.m.Summarize(e.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, migration.MigrationNoMigrationNeeded, sum.State)
		m, err := e.store.Migration(e.ctx, id)
		require.NoError(t, err)
		assert.True(t, m.Summarized)
	}

	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-none-3", Source: alice, RequestedBy: "ops:test"})
	require.NoError(t, err)
	require.NoError(t, e.store.ReleaseActive(e.ctx, alice, "m-none-3"))
	active, err := e.store.ClaimActive(e.ctx, alice, "m-newer")
	require.NoError(t, err)
	require.Equal(t, "m-newer", active)
	_, err = e.m.Summarize(e.ctx, res.MigrationID)
	require.NoError(t, err)
	m, err := e.store.Migration(e.ctx, "m-none-3")
	require.NoError(t, err)
	assert.True(t, m.Summarized, "the migration ended")
	active, err = e.store.ClaimActive(e.ctx, alice, "m-other")
	require.NoError(t, err)
	assert.Equal(t, "m-newer", active, "the newer claim stays")
	assert.Len(t, auditEvents(t, e, alice, migration.EventMigrationEnded), 3, "each migration ended once")
}
