package dynamostore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// An ops target that may not receive the batch does not end it FAILED: the
// batch goes back to the developer, AWAITING_TARGET with the refusal as
// lastRefusal (as the point of no return does with a taken target), the wait
// parks for the developer's choice, and that choice goes on as usual.
func TestIneligibleOpsTargetGoesBackToTheDeveloper(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	ops := &migration.OpsInstructions{Targets: map[string]migration.Target{
		"subj-b/developer": {Mode: migration.TargetModeExisting, AccountID: "dev-404"}}} // not alice's
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
	require.NoError(t, err)
	bb := e.batchByKey(t, "m-1", "subj-b/developer")
	e.accept(t, alice, bb)

	got, err := e.m.Await(e.ctx, "m-1", bb.BatchID, migration.StepTarget, "b-target")
	require.NoError(t, err, "the wait parks for the developer")
	assert.Equal(t, migration.AwaitingTarget, got.State)
	got = e.batchByKey(t, "m-1", "subj-b/developer")
	assert.Equal(t, migration.AwaitingTarget, got.State, "not FAILED")
	require.NotNil(t, got.LastRefusal, "the batch says why")
	assert.Equal(t, migration.CodeTargetNotEligible, got.LastRefusal.Code)
	assert.Nil(t, got.Target)
	assert.Equal(t, "b-target", got.Tokens[migration.StepTarget], "the wait is parked")
	refused := auditEvents(t, e, alice, migration.EventTargetRefused)
	require.Len(t, refused, 1)
	assert.Equal(t, "ops:alice", refused[0].Actor)

	// A second run of the wait (a Lambda retry) does not apply it again.
	_, err = e.m.Await(e.ctx, "m-1", bb.BatchID, migration.StepTarget, "b-target")
	require.NoError(t, err)
	assert.Len(t, auditEvents(t, e, alice, migration.EventTargetRefused), 1, "ops targets apply once")

	got, err = e.m.SelectTarget(e.ctx, alice, "m-1", bb.BatchID, migration.Target{Mode: migration.TargetModeNew})
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingConfirmation, got.State)
	assert.True(t, e.signal.didSucceed("b-target"), "the developer's choice ends the wait")
}

// interleaved runs act once, right after the batch was read for an ops step
// (the Migration read comes next): another writer's change lands between the
// ops path's read and its write.
type interleaved struct {
	migration.Store
	once sync.Once
	act  func()
}

func (s *interleaved) Migration(ctx context.Context, id string) (migration.Migration, error) {
	s.once.Do(s.act)
	return s.Store.Migration(ctx, id)
}

// The ops target is written only over the target it read: when the developer
// chose between the ops step's read and its write, the developer's choice
// stands and the wait ends on it.
func TestStaleOpsTargetNeverOverwritesTheDevelopersChoice(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	ops := &migration.OpsInstructions{Targets: map[string]migration.Target{
		"subj-a/developer": {Mode: migration.TargetModeExisting, AccountID: "dev-1"}}}
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
	require.NoError(t, err)
	ba := e.batchByKey(t, "m-1", "subj-a/developer")
	e.accept(t, alice, ba)

	m := e.over(&interleaved{Store: e.store, act: func() {
		_, err := e.m.SelectTarget(e.ctx, alice, "m-1", ba.BatchID, migration.Target{Mode: migration.TargetModeNew})
		require.NoError(t, err)
	}})
	got, err := m.Await(e.ctx, "m-1", ba.BatchID, migration.StepTarget, "a-target")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingConfirmation, got.State)

	got = e.batchByKey(t, "m-1", "subj-a/developer")
	require.NotNil(t, got.Target)
	assert.Equal(t, migration.TargetModeNew, got.Target.Mode, "the developer's own choice stands")
	assert.NotEqual(t, "dev-1", got.TargetAccountID)
	assert.True(t, e.signal.didSucceed("a-target"), "the wait ends on the developer's choice")
	selected := auditEvents(t, e, alice, migration.EventTargetSelected)
	require.Len(t, selected, 1, "only the developer's choice was written")
	assert.Equal(t, migration.TargetModeNew, selected[0].Target.Mode)
}

// The developer's own choice replaces the ops target (until the commit the
// target may be chosen again): only ops is held to the target it read.
func TestDevelopersChoiceReplacesTheOpsTarget(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	ops := &migration.OpsInstructions{Targets: map[string]migration.Target{
		"subj-a/developer": {Mode: migration.TargetModeExisting, AccountID: "dev-1"}}}
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
	require.NoError(t, err)
	ba := e.batchByKey(t, "m-1", "subj-a/developer")
	e.accept(t, alice, ba)
	got, err := e.m.Await(e.ctx, "m-1", ba.BatchID, migration.StepTarget, "a-target")
	require.NoError(t, err)
	require.Equal(t, "dev-1", got.TargetAccountID, "the ops target applied")

	got, err = e.m.SelectTarget(e.ctx, alice, "m-1", ba.BatchID, migration.Target{Mode: migration.TargetModeNew})
	require.NoError(t, err)
	assert.Equal(t, migration.TargetModeNew, got.Target.Mode)
	assert.NotEqual(t, "dev-1", got.TargetAccountID)
}
