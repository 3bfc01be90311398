package migration

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Notifications for the platform's own delivery (mail, SMS, in-app): events
// on the service's bus, ids only, delivered at least once. Consumers dedupe on
// batchId, the detail type and the detail's "dedupeKey".

// Event detail types besides the workflow's BatchCommitted.
const (
	DetailBatchWaiting  = "BatchWaiting"
	DetailBatchExpiring = "BatchExpiring"
)

// Publisher puts one event on the service's bus.
type Publisher interface {
	Publish(ctx context.Context, detailType string, detail any) error
}

// WaitNotice is the detail of BatchWaiting and BatchExpiring.
type WaitNotice struct {
	SchemaVersion string     `json:"schemaVersion"`
	MigrationID   string     `json:"migrationId"`
	BatchID       string     `json:"batchId"`
	BatchKey      string     `json:"batchKey"`
	Account       AccountRef `json:"account"`
	State         BatchState `json:"state"`
	// NextAction is what the developer is asked to do (NextAction(State)).
	NextAction string `json:"nextAction"`
	ExpiresAt  string `json:"expiresAt"`
	// SecondsLeft is BatchExpiring's time left when it was sent; Before is
	// the reminder it is (its offset before expiresAt, in seconds).
	SecondsLeft int64  `json:"secondsLeft,omitempty"`
	Before      int64  `json:"before,omitempty"`
	DedupeKey   string `json:"dedupeKey"`
}

func (s *WorkflowSteps) notice(b Batch) WaitNotice {
	expires := b.ExpiresAt // as the batch's status shows it
	if expires == "" {
		expires = Stamp(b.Deadline(s.pending()))
	}
	return WaitNotice{SchemaVersion: "1", MigrationID: b.MigrationID, BatchID: b.BatchID, BatchKey: b.BatchKey, Account: b.Source,
		State: b.State, NextAction: NextAction(b.State), ExpiresAt: expires}
}

// AnnounceWait publishes BatchWaiting for a batch whose workflow has just
// started waiting on its developer. Nothing is sent for a batch that has
// moved on, and a failed publish is the caller's to retry or log: a wait
// never fails for its notice.
func (s *WorkflowSteps) AnnounceWait(ctx context.Context, b Batch) error {
	if s.Events == nil || !b.State.WaitingOnDeveloper() {
		return nil
	}
	n := s.notice(b)
	n.DedupeKey = b.BatchID + "/" + string(b.State) + "/" + b.UpdatedAt // once per entry into the state
	return s.Events.Publish(ctx, DetailBatchWaiting, n)
}

// Reminders are the offsets before a batch's deadline at which BatchExpiring
// is sent, longest first (default: 7 days and 1 day).
var DefaultReminders = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// RemindOne sends the batch's BatchExpiring reminder that is due at now, if
// any: the shortest offset whose time has come and that
// was not sent yet. The store marks a reminder sent only while the batch is
// still in the state read, so a batch that moved on gets none, and only one
// sweep sends each. It reports the offset sent (0: none).
func (s *WorkflowSteps) RemindOne(ctx context.Context, b Batch, offsets []time.Duration, now time.Time) (time.Duration, error) {
	if s.Events == nil || !b.State.WaitingOnDeveloper() {
		return 0, nil
	}
	deadline := b.Deadline(s.pending())
	left := deadline.Sub(now)
	if left <= 0 {
		return 0, nil // expired: the workflow ends it
	}
	var due time.Duration
	for _, off := range offsets {
		if left <= off && (due == 0 || off < due) {
			due = off
		}
	}
	if due == 0 || slices.Contains(b.Reminded, reminderMark(due)) {
		return 0, nil
	}
	// Every longer reminder is due too; marking them with this one keeps a
	// batch created inside the 7-day window from getting "7 days left" after
	// "1 day left".
	marks := []string{reminderMark(due)}
	for _, off := range offsets {
		if off > due {
			marks = append(marks, reminderMark(off))
		}
	}
	marked, err := s.Store.MarkReminded(ctx, b, marks)
	if err != nil || !marked {
		return 0, err
	}
	n := s.notice(b)
	n.SecondsLeft, n.Before = int64(left/time.Second), int64(due/time.Second)
	n.DedupeKey = b.BatchID + "/" + reminderMark(due)
	if err := s.Events.Publish(ctx, DetailBatchExpiring, n); err != nil {
		// Not sent: unmark so that the next sweep tries again.
		if uerr := s.Store.UnmarkReminded(ctx, b, marks); uerr != nil {
			return 0, fmt.Errorf("%w (and the reminder stays marked: %v)", err, uerr)
		}
		return 0, err
	}
	return due, nil
}

func reminderMark(off time.Duration) string { return fmt.Sprintf("before-%ds", int64(off/time.Second)) }
