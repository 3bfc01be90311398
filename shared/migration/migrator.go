package migration

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Migrator holds the use cases. The HTTP edge and the workflow steps both call
// these methods, so every rule runs the same way whichever path a user takes.
type Migrator struct {
	Store   Store
	Signal  Signaller
	Starter Starter // only the HTTP path starts executions
	// Events publishes the developer's notices (BatchWaiting, BatchExpiring);
	// nil sends none.
	Events Publisher
	// Manifests keeps each committed batch's list for the new platforms.
	Manifests Manifests
	Now       func() time.Time
	// CommitOverdue is how long a batch may sit in COMMITTING before the
	// reconciliation check reports it.
	CommitOverdue time.Duration
	// ChunkSize, when above zero, caps how many items one of the store's
	// atomic writes moves (tests use small ones); zero leaves it to the
	// store's own limit.
	ChunkSize int
	// PendingTimeout is how long after its creation a batch that has not
	// passed the point of no return expires (rule 13): one deadline for all
	// of its waits on the developer. 30 days when zero.
	PendingTimeout time.Duration
}

// DefaultPendingTimeout is rule 13's 30 days.
const DefaultPendingTimeout = 30 * 24 * time.Hour

// A batch's waits and its move run in one Standard execution, which AWS stops
// after a year (365 days): the deadline leaves MoveAllowance of that year for
// what comes before the batch exists (listing, splitting) and after the
// point of no return (the move, its retries, the summary), so a batch
// confirmed in its last second still moves inside its execution.
const (
	MaxExecutionDuration = 365 * 24 * time.Hour
	MoveAllowance        = 24 * time.Hour
	MaxPendingTimeout    = MaxExecutionDuration - MoveAllowance
)

// PendingTimeoutError is a deadline that cannot fit in one execution.
type PendingTimeoutError struct{ Timeout time.Duration }

func (e *PendingTimeoutError) Error() string {
	return fmt.Sprintf("pending timeout %s is over %s (%d seconds): a Standard execution lasts at most %s and the move needs %s of it",
		e.Timeout, MaxPendingTimeout, int64(MaxPendingTimeout/time.Second), MaxExecutionDuration, MoveAllowance)
}

// CheckPendingTimeout refuses a deadline that is not positive or does not fit
// in one execution with the move.
func CheckPendingTimeout(d time.Duration) error {
	if d <= 0 || d > MaxPendingTimeout {
		return &PendingTimeoutError{Timeout: d}
	}
	return nil
}

func (s *Migrator) pending() time.Duration {
	if s.PendingTimeout > 0 {
		return s.PendingTimeout
	}
	return DefaultPendingTimeout
}

// waitDeadline is what is left of the batch's deadline for the workflow's
// next wait on the developer.
func (s *Migrator) waitDeadline(b Batch) WaitDeadline {
	return WaitDeadlineUntil(b.Deadline(s.pending()), s.now())
}

// pastDeadline ends a batch whose deadline has passed while it still waits
// on the developer, and refuses the action that found it: the workflow's own
// wait ends at the same deadline, this closes the gap of a late click.
func (s *Migrator) pastDeadline(ctx context.Context, b Batch) error {
	if !b.State.WaitingOnDeveloper() || s.now().Before(b.Deadline(s.pending())) {
		return nil
	}
	if _, err := s.Expire(ctx, b.MigrationID, b.BatchID); err != nil && !IsCode(err, CodeWrongStep) {
		return err
	}
	return Errorf(CodeExpired, "the batch expired at %s; start the migration again", b.Deadline(s.pending()).Format(time.RFC3339))
}

func (s *Migrator) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Migrator) stamp() string { return Stamp(s.now()) }

// NewMigrationID returns a fresh id, also usable as an execution name.
func NewMigrationID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "m-" + hex.EncodeToString(b[:])
}

// BatchID is derived from the migration and batch key, so creating a
// migration's batches again (a retried step) yields the same ids.
func BatchID(migrationID, batchKey string) string {
	sum := sha256.Sum256([]byte(migrationID + "\x00" + batchKey))
	return "b-" + hex.EncodeToString(sum[:8])
}
