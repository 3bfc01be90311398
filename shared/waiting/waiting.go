// Package waiting finds the batches that wait on developers (agreement,
// target or confirmation), oldest first. `opsctl waiting` lists them and the
// waiting probe (functions/waiting-probe) publishes the oldest one's age, so
// both read the same states the same way.
package waiting

import (
	"context"
	"sort"
	"time"

	"github.com/devplatform/account-migration/shared/metrics"
	"github.com/devplatform/account-migration/shared/migration"
)

// States are the batch states that wait on a developer.
var States = []migration.BatchState{migration.AwaitingAgreement, migration.AwaitingTarget, migration.AwaitingConfirmation}

// Lister lists batches by state, oldest change first: the domain's port.
type Lister = migration.BatchLister

// Batches lists the waiting batches last changed before before (zero: all),
// oldest first, at most limit of them (0: all).
func Batches(ctx context.Context, l Lister, before time.Time, limit int) ([]migration.Batch, error) {
	var all []migration.Batch
	for _, st := range States {
		bs, err := l.BatchesInState(ctx, st, before, limit)
		if err != nil {
			return nil, err
		}
		all = append(all, bs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return Since(all[i]).Before(Since(all[j])) })
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// Since is when the batch entered its current state (zero if unreadable).
func Since(b migration.Batch) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, b.UpdatedAt)
	return t
}

// Report is what one probe found.
type Report struct {
	At string `json:"at"`
	// OldestAgeSeconds is how long the oldest waiting batch has waited;
	// 0 when none waits.
	OldestAgeSeconds float64          `json:"oldestAgeSeconds"`
	Oldest           *migration.Batch `json:"oldest,omitempty"`
}

// Probe finds the oldest waiting batch at now and publishes its age as the
// OldestWaitingAgeSeconds metric. It reads one batch per state: the index
// keeps each state's batches ordered by their last change.
func Probe(ctx context.Context, l Lister, now time.Time) (Report, error) {
	r := Report{At: now.UTC().Format(time.RFC3339)}
	oldest, err := Batches(ctx, l, time.Time{}, 1)
	if err != nil {
		return r, err
	}
	if len(oldest) == 1 {
		b := oldest[0]
		r.Oldest = &b
		r.OldestAgeSeconds = max(0, now.Sub(Since(b)).Seconds())
	}
	var migrationID, batchID, state string
	if r.Oldest != nil {
		migrationID, batchID, state = r.Oldest.MigrationID, r.Oldest.BatchID, string(r.Oldest.State)
	}
	metrics.OldestWaiting(ctx, migrationID, batchID, state, time.Duration(r.OldestAgeSeconds*float64(time.Second)))
	return r, nil
}

// Event is the part of EventBridge's scheduled event the probe reads.
type Event struct {
	Time time.Time `json:"time"`
}

// Prober is the waiting probe's handler.
type Prober struct {
	Store Lister
	Now   func() time.Time // default time.Now
}

// Handle probes at the later of the event's time and the clock: a retried
// delivery carries its original time, and the clock is what ages a wait.
func (p Prober) Handle(ctx context.Context, ev Event) (Report, error) {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	if ev.Time.After(now) {
		now = ev.Time
	}
	return Probe(ctx, p.Store, now)
}
