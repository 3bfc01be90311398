package migration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var alice = AccountRef{Platform: string(PlatformMicroapp), ID: "ma-1"}

func fixedNow() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) }

// A claim whose migration was never written is released once, through the
// domain, with its audit event saying who and why.
func TestReleaseDeadClaimLeavesItsAuditEvent(t *testing.T) {
	f := newFakeStore()
	f.claims[alice] = "dead-1"
	h := ReleaseDeadClaim{Store: f, Now: fixedNow}

	released, err := h.Handle(context.Background(), alice, "dead-1", "ops:alice", "execution dead-1 ended FAILED before creating its migration")
	require.NoError(t, err)
	assert.True(t, released)
	assert.Empty(t, f.claim(alice), "the account is free to start again")
	evs := f.events(EventClaimReleased)
	require.Len(t, evs, 1)
	assert.Equal(t, AuditEvent{At: Stamp(fixedNow()), Event: EventClaimReleased, Account: alice.String(), MigrationID: "dead-1", Actor: "ops:alice",
		Detail: map[string]any{"reason": "execution dead-1 ended FAILED before creating its migration"}}, evs[0])

	// Again: the claim has moved on, nothing is written.
	released, err = h.Handle(context.Background(), alice, "dead-1", "ops:alice", "again")
	require.NoError(t, err)
	assert.False(t, released)
	assert.Len(t, f.events(EventClaimReleased), 1)
}

func TestReleaseDeadClaimRefusesALiveOrAnotherClaim(t *testing.T) {
	f := newFakeStore()
	f.put(Migration{MigrationID: "m-1", Source: alice, Eligible: true}, AwaitingTarget)
	h := ReleaseDeadClaim{Store: f}

	_, err := h.Handle(context.Background(), alice, "m-1", "ops:alice", "by mistake")
	assert.True(t, IsCode(err, CodeWrongStep), "a migration that exists ends through Summarize: %v", err)
	assert.Equal(t, "m-1", f.claim(alice), "its claim is kept")

	released, err := h.Handle(context.Background(), alice, "dead-2", "ops:alice", "another id")
	require.NoError(t, err)
	assert.False(t, released, "the claim is m-1's, not dead-2's")
	assert.Equal(t, "m-1", f.claim(alice))

	_, err = h.Handle(context.Background(), alice, "dead-2", "", "no actor")
	assert.True(t, IsCode(err, CodeInvalidInput))
	assert.Empty(t, f.events(EventClaimReleased))
}

// Summarize ends a migration once every batch has ended, once; while a batch
// waits or moves it ends nothing and the account stays claimed.
func TestSummarizeEndsAMigrationOnceWhenNoBatchWaitsOrMoves(t *testing.T) {
	f := newFakeStore()
	f.put(Migration{MigrationID: "m-1", Source: alice, Eligible: true}, Committed, Committing)
	s := New(Deps{Store: f, Now: fixedNow})

	sum, err := s.Summarize(context.Background(), "m-1")
	require.NoError(t, err)
	assert.Equal(t, MigrationInProgress, sum.State)
	assert.Equal(t, "m-1", f.claim(alice), "a batch still moves: the account stays claimed")
	assert.Zero(t, f.ends)

	f.batches["m-1"][1].State = Committed
	sum, err = s.Summarize(context.Background(), "m-1")
	require.NoError(t, err)
	assert.Equal(t, MigrationCompleted, sum.State)
	assert.Equal(t, map[BatchState]int{Committed: 2}, sum.Counts)
	assert.Empty(t, f.claim(alice), "ended: the account is free")
	evs := f.events(EventMigrationEnded)
	require.Len(t, evs, 1)
	assert.Equal(t, map[string]any{"state": string(MigrationCompleted)}, evs[0].Detail)

	// A retried step ends nothing twice.
	_, err = s.Summarize(context.Background(), "m-1")
	require.NoError(t, err)
	assert.Equal(t, 1, f.ends)
	assert.Len(t, f.events(EventMigrationEnded), 1)
}

// The account's claim is freed for a new migration only when the one holding
// it has in fact ended (its summary step had not run), never while it runs or
// before it is written.
func TestReleaseIfDoneFreesOnlyAnEndedMigrationsClaim(t *testing.T) {
	for _, tc := range []struct {
		name   string
		states []BatchState
		write  bool
		freed  bool
	}{
		{"every batch ended", []BatchState{Committed, Expired}, true, true},
		{"a batch still waits", []BatchState{Committed, AwaitingConfirmation}, true, false},
		{"a batch still moves", []BatchState{Committing}, true, false},
		{"not written yet", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStore()
			if tc.write {
				f.put(Migration{MigrationID: "m-1", Source: alice, Eligible: true}, tc.states...)
			} else {
				f.claims[alice] = "m-1"
			}
			done, err := (New(Deps{Store: f})).releaseIfDone(context.Background(), alice, "m-1")
			require.NoError(t, err)
			assert.Equal(t, tc.freed, done)
			assert.Equal(t, !tc.freed, f.claim(alice) == "m-1")
		})
	}
}
