package migration

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Deps are what every use case needs: the ports and the rules' settings.
type Deps struct {
	Store   Store
	Signal  Signaller
	Starter Starter // only the HTTP path starts executions
	// Events publishes the developer's notices (BatchWaiting, BatchExpiring);
	// nil sends none.
	Events Publisher
	// Manifests keeps each committed batch's list for the new platforms.
	Manifests Manifests
	// Outcomes counts what ended each batch (committed, failed, stalled),
	// recorded once, where the rule decides it; nil (New) counts nothing.
	Outcomes Outcomes
	Now      func() time.Time
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

// The use cases come in three services over one Deps, so a caller depends
// on the part it uses: the HTTP edge on what a developer does and reads, the
// workflow's steps on theirs.
type (
	// DeveloperActions are what a developer does to a migration: start it,
	// accept the agreement, choose a target, confirm.
	DeveloperActions struct{ *Deps }
	// WorkflowSteps are what the state machine runs: begin, the waits, the
	// move, the hand-off, the notices, and the outcomes that end a batch.
	WorkflowSteps struct{ *Deps }
	// Reads answer questions about accounts, migrations and batches; the
	// only writes they make are the records of what was shown (a receipt's
	// hash, a lazy link to a target's holdings).
	Reads struct{ *Deps }
)

// Migrator is all three services over one Deps: what wiring and tests hold.
// A caller that needs one part takes it (m.DeveloperActions, m.WorkflowSteps,
// m.Reads). Setting a field of its Deps (m.Events = ...) sets it for all three.
type Migrator struct {
	*Deps
	*DeveloperActions
	*WorkflowSteps
	*Reads
}

// New returns the use cases over d.
func New(d Deps) *Migrator {
	if d.Outcomes == nil {
		d.Outcomes = uncounted{}
	}
	p := &d
	return &Migrator{Deps: p, DeveloperActions: p.developer(), WorkflowSteps: p.steps(), Reads: p.reads()}
}

// uncounted is the Outcomes of a Migrator given none: it counts nothing.
type uncounted struct{}

func (uncounted) BatchCommitted(context.Context, Batch, int)  {}
func (uncounted) BatchFailed(context.Context, Batch, string)  {}
func (uncounted) BatchStalled(context.Context, Batch, string) {}

func (d *Deps) developer() *DeveloperActions { return &DeveloperActions{d} }
func (d *Deps) steps() *WorkflowSteps        { return &WorkflowSteps{d} }
func (d *Deps) reads() *Reads                { return &Reads{d} }

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

func (s *Deps) pending() time.Duration {
	if s.PendingTimeout > 0 {
		return s.PendingTimeout
	}
	return DefaultPendingTimeout
}

// waitDeadline is what is left of the batch's deadline for the workflow's
// next wait on the developer.
func (s *Deps) waitDeadline(b Batch) WaitDeadline {
	return WaitDeadlineUntil(b.Deadline(s.pending()), s.now())
}

// pastDeadline ends a batch whose deadline has passed while it still waits
// on the developer, and refuses the action that found it: the workflow's own
// wait ends at the same deadline, this closes the gap of a late click.
func (s *DeveloperActions) pastDeadline(ctx context.Context, b Batch) error {
	if !b.State.WaitingOnDeveloper() || s.now().Before(b.Deadline(s.pending())) {
		return nil
	}
	if _, err := s.steps().Expire(ctx, b.MigrationID, b.BatchID); err != nil && !IsCode(err, CodeWrongStep) {
		return err
	}
	return Errorf(CodeExpired, "the batch expired at %s; start the migration again", b.Deadline(s.pending()).Format(time.RFC3339))
}

func (s *Deps) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Deps) stamp() string { return Stamp(s.now()) }

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
