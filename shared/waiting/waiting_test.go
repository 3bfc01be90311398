package waiting_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/waiting"
)

// fakeLister answers BatchesInState from a fixed list, oldest first per state
// as the index does (a rule test: the store itself is proven on the stack).
type fakeLister []migration.Batch

func (f fakeLister) BatchesInState(_ context.Context, st migration.BatchState, before time.Time, limit int) ([]migration.Batch, error) {
	var out []migration.Batch
	for _, b := range f {
		if b.State == st && (before.IsZero() || waiting.Since(b).Before(before)) {
			out = append(out, b)
		}
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

func batch(id string, st migration.BatchState, at time.Time) migration.Batch {
	return migration.Batch{MigrationID: "m-" + id, BatchID: id, State: st, UpdatedAt: at.Format(time.RFC3339Nano)}
}

func TestBatchesOldestFirstAcrossStates(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	l := fakeLister{
		batch("a", migration.AwaitingAgreement, t0.Add(2*time.Hour)),
		batch("t", migration.AwaitingTarget, t0),
		batch("c", migration.AwaitingConfirmation, t0.Add(time.Hour)),
		batch("x", migration.Committing, t0.Add(-time.Hour)), // not waiting on a developer
	}
	all, err := waiting.Batches(context.Background(), l, time.Time{}, 0)
	require.NoError(t, err)
	var ids []string
	for _, b := range all {
		ids = append(ids, b.BatchID)
	}
	assert.Equal(t, []string{"t", "c", "a"}, ids)

	two, err := waiting.Batches(context.Background(), l, t0.Add(90*time.Minute), 0)
	require.NoError(t, err)
	assert.Len(t, two, 2)
}

func TestProbeAgeOfOldest(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	l := fakeLister{batch("a", migration.AwaitingAgreement, t0.Add(time.Hour)), batch("c", migration.AwaitingConfirmation, t0)}
	p := waiting.Prober{Store: l, Now: func() time.Time { return t0.Add(72 * time.Hour) }}
	r, err := p.Handle(context.Background(), waiting.Event{})
	require.NoError(t, err)
	assert.Equal(t, (72 * time.Hour).Seconds(), r.OldestAgeSeconds)
	require.NotNil(t, r.Oldest)
	assert.Equal(t, "c", r.Oldest.BatchID)

	// A retried delivery carries its original time: the clock wins.
	r, err = p.Handle(context.Background(), waiting.Event{Time: t0.Add(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, (72 * time.Hour).Seconds(), r.OldestAgeSeconds)

	none, err := waiting.Prober{Store: fakeLister{}, Now: p.Now}.Handle(context.Background(), waiting.Event{})
	require.NoError(t, err)
	assert.Zero(t, none.OldestAgeSeconds)
	assert.Nil(t, none.Oldest)
}
