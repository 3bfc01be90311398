package dynamostore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// recordingPublisher keeps what would go to the bus (the EventBridge adapter
// itself is tested against moto in shared/eventbus).
type recordingPublisher struct {
	mu     sync.Mutex
	events []published
}

type published struct {
	detailType string
	notice     migration.WaitNotice
}

func (r *recordingPublisher) Publish(_ context.Context, detailType string, detail any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, published{detailType, detail.(migration.WaitNotice)})
	return nil
}

func (r *recordingPublisher) take() []published {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// reminderClock starts alice's migration at a fixed instant with a
// 100-second deadline and a recording bus; *now is the clock the test moves.
func reminderClock(t *testing.T, snap *migration.Snapshot) (*env, *recordingPublisher, migration.BeginResult, time.Time, *time.Time) {
	t.Helper()
	e := newEnv(t, snap)
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	now := start
	pub := &recordingPublisher{}
	e.m.Now = func() time.Time { return now }
	e.m.PendingTimeout = 100 * time.Second
	e.m.Events = pub
	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: migration.NewMigrationID(), Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	return e, pub, res, start, &now
}

// Reminders arrive at the configured offsets before the deadline, once each
// however many sweeps run (at once or after each other), and never for a
// batch that has moved on.
func TestRemindersAtOffsetsOnceAndNoneAfterTheWait(t *testing.T) {
	e, pub, res, start, now := reminderClock(t, aliceApps(1).subject("subj-b", migration.SubjectCompany).miniprograms("microapp", "ma-1", "subj-b", "b", 1).build(t))
	offsets := []time.Duration{50 * time.Second, 10 * time.Second}
	require.Len(t, res.BatchIDs, 2)
	waitingBatch, movedOn := res.BatchIDs[0], res.BatchIDs[1]
	// One batch leaves its waits: it fails (any final state will do).
	_, err := e.store.Transition(e.ctx, migration.Transition{MigrationID: res.MigrationID, BatchID: movedOn,
		From: []migration.BatchState{migration.AwaitingAgreement}, To: migration.Failed,
		Error: &migration.BatchError{Code: migration.CodeQuotaExceeded, Message: "test"},
		Audit: migration.AuditEvent{At: migration.Stamp(*now), Event: migration.EventBatchFailed, Account: alice.String(), MigrationID: res.MigrationID, BatchID: movedOn}})
	require.NoError(t, err)

	sweep := func(at time.Duration) []published {
		t.Helper()
		*now = start.Add(at)
		batches, err := e.store.Batches(e.ctx, res.MigrationID)
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 3 { // three sweeps at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, b := range batches {
					_, err := e.m.RemindOne(e.ctx, b, offsets, *now)
					assert.NoError(t, err)
				}
			}()
		}
		wg.Wait()
		return pub.take()
	}

	assert.Empty(t, sweep(30*time.Second), "70 s left: no reminder is due")
	got := sweep(55 * time.Second)
	require.Len(t, got, 1, "45 s left: the 50 s reminder, once")
	assert.Equal(t, migration.DetailBatchExpiring, got[0].detailType)
	assert.Equal(t, waitingBatch, got[0].notice.BatchID)
	assert.Equal(t, int64(50), got[0].notice.Before)
	assert.Equal(t, int64(45), got[0].notice.SecondsLeft)
	assert.Equal(t, "AWAITING_AGREEMENT", string(got[0].notice.State))
	expires, err := time.Parse(time.RFC3339Nano, got[0].notice.ExpiresAt)
	require.NoError(t, err)
	assert.True(t, start.Add(100*time.Second).Equal(expires), "the batch's one deadline: %s", got[0].notice.ExpiresAt)
	assert.Empty(t, sweep(60*time.Second), "sent already")
	got = sweep(91 * time.Second)
	require.Len(t, got, 1, "9 s left: the 10 s reminder")
	assert.Equal(t, int64(10), got[0].notice.Before)
	assert.Empty(t, sweep(95*time.Second))
	assert.Empty(t, sweep(101*time.Second), "past the deadline: the workflow expires it, no reminder")
}

// A batch created inside the longest window gets only the reminder due, and
// not the longer one after it.
func TestReminderInsideTheWindowSkipsTheLongerOne(t *testing.T) {
	e, pub, res, start, now := reminderClock(t, aliceApps(1).build(t))
	offsets := []time.Duration{500 * time.Second, 10 * time.Second}
	remind := func(at time.Duration) time.Duration {
		*now = start.Add(at)
		b, err := e.store.Batch(e.ctx, res.MigrationID, res.BatchIDs[0])
		require.NoError(t, err)
		sent, err := e.m.RemindOne(e.ctx, b, offsets, *now)
		require.NoError(t, err)
		return sent
	}
	assert.Equal(t, 500*time.Second, remind(1*time.Second))
	assert.Equal(t, 10*time.Second, remind(95*time.Second))
	assert.Zero(t, remind(96*time.Second))
	assert.Len(t, pub.take(), 2)
}
