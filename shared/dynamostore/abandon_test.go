package dynamostore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// When a step outside the batches' branches fails for good (listing,
// splitting, the Map, the summary), the workflow's Abandon step ends every
// batch still waiting on its developer FAILED (nothing moved; no wait would
// hear it again), leaves a COMMITTING batch to move forward, and frees the
// account once nothing is open.
func TestAbandonEndsWaitingBatchesAndFreesTheAccount(t *testing.T) {
	e := newEnv(t, aliceApps(1).subject("subj-b", migration.SubjectCompany).miniprograms("microapp", "ma-1", "subj-b", "b", 1).build(t))
	committing := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	_, err := e.m.Confirm(e.ctx, alice, committing.MigrationID, committing.BatchID)
	require.NoError(t, err)
	// The same migration's other batch, still waiting on its developer.
	bs, err := e.store.Batches(e.ctx, committing.MigrationID)
	require.NoError(t, err)
	require.Len(t, bs, 1, "readyBatch began with one batch key")
	mid := committing.MigrationID

	// A second migration of the same account is refused while this one holds the claim.
	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: migration.NewMigrationID(), Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	assert.Equal(t, mid, res.ActiveMigrationID)

	sum, err := e.m.Abandon(e.ctx, mid, "States.Runtime: the summary failed")
	require.NoError(t, err)
	assert.Equal(t, migration.MigrationInProgress, sum.State, "a COMMITTING batch keeps the migration open")
	b, err := e.store.Batch(e.ctx, mid, committing.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Committing, b.State, "past the point of no return: only forward")

	e.moveAll(t, b)
	sum, err = e.m.Abandon(e.ctx, mid, "States.Runtime: the summary failed")
	require.NoError(t, err)
	assert.NotEqual(t, migration.MigrationInProgress, sum.State)
	res, err = e.m.Begin(e.ctx, migration.BeginInput{MigrationID: migration.NewMigrationID(), Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	assert.Empty(t, res.ActiveMigrationID, "the account is free to start again")
	require.Len(t, res.BatchIDs, 1, "subj-b's batch, which never moved")

	// That new migration fails before its branches: its waiting batch ends
	// FAILED, nothing moved, and the account is free again.
	sum, err = e.m.Abandon(e.ctx, res.MigrationID, "StoreUnavailable: throttled")
	require.NoError(t, err)
	nb, err := e.store.Batch(e.ctx, res.MigrationID, res.BatchIDs[0])
	require.NoError(t, err)
	assert.Equal(t, migration.Failed, nb.State)
	require.NotNil(t, nb.Error)
	assert.Contains(t, nb.Error.Message, "StoreUnavailable: throttled")
	assert.NotEqual(t, migration.MigrationInProgress, sum.State, "every batch ended")
	again, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: migration.NewMigrationID(), Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	assert.Empty(t, again.ActiveMigrationID, "freed")

	// A failure before the claim left nothing: Abandon has nothing to do.
	_, err = e.m.Abandon(e.ctx, migration.NewMigrationID(), "InvalidInput")
	assert.NoError(t, err)
}
