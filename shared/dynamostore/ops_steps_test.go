package dynamostore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// writeCounter counts the batch transitions and parked tokens: the
// bookkeeping a batch's waits write.
type writeCounter struct {
	migration.Store
	transitions, parks atomic.Int32
}

func (c *writeCounter) Transition(ctx context.Context, t migration.Transition) (migration.Batch, error) {
	c.transitions.Add(1)
	return c.Store.Transition(ctx, t)
}

func (c *writeCounter) ParkToken(ctx context.Context, migrationID, batchID string, step migration.Step, token string) (migration.Batch, bool, error) {
	c.parks.Add(1)
	return c.Store.ParkToken(ctx, migrationID, batchID, step, token)
}

// Ops input that names the agreement and the batch's target takes the batch
// past both steps in one write, each step with its own audit event in order;
// the target wait then ends at once, without a write or a parked token.
func TestOpsAgreementAndTargetInOneWrite(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	ops := &migration.OpsInstructions{
		Agreement: &migration.OpsAgreement{Version: migration.CurrentAgreement().Version, AcceptedBy: "alice@example.com", Evidence: "ticket-1"},
		Targets: map[string]migration.Target{
			"subj-a/developer": {Mode: migration.TargetModeExisting, AccountID: "dev-1"},
			"subj-b/developer": {Mode: migration.TargetModeExisting, AccountID: "dev-404"}, // not eligible
		}}
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
	require.NoError(t, err)
	counter := &writeCounter{Store: e.store}
	m := e.over(counter)
	ba, bb := e.batchByKey(t, "m-1", "subj-a/developer"), e.batchByKey(t, "m-1", "subj-b/developer")

	got, err := m.Await(e.ctx, "m-1", ba.BatchID, migration.StepAgreement, "a-agreement")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingConfirmation, got.State, "agreement and target in one step")
	require.NotNil(t, got.Target)
	assert.Equal(t, "dev-1", got.TargetAccountID)
	got, err = m.Await(e.ctx, "m-1", ba.BatchID, migration.StepTarget, "a-target")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingConfirmation, got.State)
	assert.True(t, e.signal.didSucceed("a-agreement"))
	assert.True(t, e.signal.didSucceed("a-target"), "the target wait ends at once")
	assert.EqualValues(t, 1, counter.transitions.Load(), "one write for both steps")
	assert.EqualValues(t, 0, counter.parks.Load(), "no token parked")

	var trail []string
	for _, ev := range auditEvents(t, e, alice, migration.EventAgreementAccepted) {
		if ev.BatchID == ba.BatchID {
			trail = append(trail, ev.Event+" "+string(ev.From)+"->"+string(ev.To))
		}
	}
	for _, ev := range auditEvents(t, e, alice, migration.EventTargetSelected) {
		if ev.BatchID == ba.BatchID {
			trail = append(trail, ev.Event+" "+string(ev.From)+"->"+string(ev.To))
			require.NotNil(t, ev.Target)
			assert.Equal(t, "dev-1", ev.Target.AccountID)
		}
	}
	assert.Equal(t, []string{
		"AGREEMENT_ACCEPTED AWAITING_AGREEMENT->AWAITING_TARGET",
		"TARGET_SELECTED AWAITING_TARGET->AWAITING_CONFIRMATION",
	}, trail, "each step recorded, in order")

	// A target that may not receive the batch: the agreement alone applies,
	// and the target wait refuses the target as it always did.
	got, err = m.Await(e.ctx, "m-1", bb.BatchID, migration.StepAgreement, "b-agreement")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingTarget, got.State)
	assert.Nil(t, got.Target)
}
