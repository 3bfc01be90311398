package migration

import (
	"context"
	"time"
)

// Store is what the use cases need from persistence, by role. The DynamoDB
// adapter implements it with conditional writes; every method that changes a
// batch does so only from the states the domain allows, and writes its audit
// event in the same transaction. A consumer that needs one role takes that
// interface alone (tests wrap one role's methods and embed the rest).
type Store interface {
	Holdings
	Migrations
	BatchSteps
	Commits
	Reminders
	AuditLog
}

// Holdings reads the platforms' records: accounts, subjects, what each
// holder holds, and the target accounts (read only).
type Holdings interface {
	SourceAccount(ctx context.Context, ref AccountRef) (Account, error)
	Subject(ctx context.Context, id string) (Subject, error)
	// HeldItems pages through what holder holds; batchKey "" means all. Items
	// come ordered by batch key, the skipped ones (no batch) last.
	HeldItems(ctx context.Context, holder, batchKey, cursor string, limit int) ([]Item, string, error)
	// MovedItems pages through what holder holds under batchKey that the
	// batch batchID moved there.
	MovedItems(ctx context.Context, holder, batchKey, batchID, cursor string, limit int) ([]Item, string, error)
	// Item reads one item as it is now.
	Item(ctx context.Context, t ItemType, id string) (Item, error)
	// Followers pages through relations on holder's apps (they follow the apps).
	Followers(ctx context.Context, holder, batchKey, cursor string, limit int) ([]Item, string, error)
	TargetCandidates(ctx context.Context, p TargetPlatform, login string) ([]TargetAccount, error)
	TargetAccount(ctx context.Context, p TargetPlatform, id string) (TargetAccount, error)
}

// Migrations keeps migrations and their batches: created with the account's
// claim, read, attached to their execution, ended with the claim freed.
type Migrations interface {
	// CreateMigration claims the account for m (its one active migration)
	// and writes m with its batches; activeID names the migration that holds
	// the claim: m's own when it was created, another's when nothing was.
	CreateMigration(ctx context.Context, m Migration, batches []Batch, ev AuditEvent) (activeID string, err error)
	ReleaseActive(ctx context.Context, src AccountRef, migrationID string) error
	Migration(ctx context.Context, migrationID string) (Migration, error)
	Batches(ctx context.Context, migrationID string) ([]Batch, error)
	Batch(ctx context.Context, migrationID, batchID string) (Batch, error)
	// MigrationsOf pages through the account's migrations, newest first.
	MigrationsOf(ctx context.Context, src AccountRef, cursor string, limit int) ([]Migration, string, error)
	SetExecutionArn(ctx context.Context, migrationID, arn string) error
	// EndMigration marks the migration summarised and frees the account's
	// claim, in one write.
	EndMigration(ctx context.Context, src AccountRef, migrationID string, ev AuditEvent) error
}

// BatchSteps records the developer's steps before the point of no return:
// the agreement viewed, each transition, and the workflow's parked waits.
type BatchSteps interface {
	RecordView(ctx context.Context, src AccountRef, a Agreement, ev AuditEvent) error
	HasViewed(ctx context.Context, src AccountRef, version, sha string) (bool, error)
	// Transition moves a batch from one of t.From to t.To. When the batch is in
	// none of t.From it returns a CodeWrongStep error and the batch as it is.
	Transition(ctx context.Context, t Transition) (Batch, error)
	// ParkToken stores a wait's task token while the batch still waits for the
	// step; parked is false (with the batch as it is) when it no longer does.
	ParkToken(ctx context.Context, migrationID, batchID string, step Step, token string) (b Batch, parked bool, err error)
}

// Commits is the one-way part: the point of no return and the move.
type Commits interface {
	// PassPointOfNoReturn is the one transaction after which the batch only
	// moves forward: AWAITING_CONFIRMATION -> COMMITTING, the subject's quota
	// reserved, the target account created or bound to the subject, the audit
	// event written. What it reserves counts only the items that consistent
	// reads find still held by the source. Codes: QUOTA_EXCEEDED,
	// TARGET_NOT_ELIGIBLE, NOTHING_TO_MOVE, WRONG_STEP.
	PassPointOfNoReturn(ctx context.Context, c CommitStart) error
	// MoveChunk moves some of the batch's remaining items to its target
	// (how many a call takes is the store's to decide, from c.PerWrite and
	// c.Short), each conditioned on still being held by the source. The move
	// that empties the batch applies c.Closing in its own transaction when
	// there is room for it (ChunkResult.Closed).
	MoveChunk(ctx context.Context, c Chunk) (ChunkResult, error)
	// RecordReceipt stores sha as the committed batch's receipt hash with its
	// audit event, in one write; a hash already recorded is not written again.
	RecordReceipt(ctx context.Context, b Batch, sha string, ev AuditEvent) error
}

// Reminders marks the reminders sent for a waiting batch's deadline.
type Reminders interface {
	// MarkReminded marks every one of marks sent, only while the batch is
	// still in b.State and marks[0] (the reminder being sent) is not marked
	// yet: marked is false when either is no longer so (nothing to send).
	MarkReminded(ctx context.Context, b Batch, marks []string) (marked bool, err error)
	// UnmarkReminded takes marks back after the reminder could not be sent.
	UnmarkReminded(ctx context.Context, b Batch, marks []string) error
}

// AuditLog reads an account's append-only audit trail (every write above
// appends to it in its own transaction).
type AuditLog interface {
	AuditTrail(ctx context.Context, src AccountRef, cursor string, limit int) ([]AuditEvent, string, error)
}

// Transition is one conditional change of a batch's state.
type Transition struct {
	MigrationID, BatchID string
	From                 []BatchState
	To                   BatchState
	Agreement            *Acceptance
	Target               *Target
	TargetAccountID      string
	Error                *BatchError
	// LastRefusal is recorded on the batch; with ClearTarget (the target
	// account that must still be chosen) the target is removed.
	LastRefusal *BatchError
	ClearTarget string
	// ReplacesTarget, when set, is the target account the write replaces (""
	// for none): it passes only while the batch still has that one, so a
	// choice read before another was written never overwrites it.
	ReplacesTarget *string
	// LeftIs holds the transition to a batch whose move has at most this
	// many items left (kept from the point of no return; batches without the
	// count pass): the closing of a move applies only when it takes the last.
	LeftIs *int
	Audit  AuditEvent
	// Also are more audit events of the same write: ops input that takes a
	// batch past two steps at once records each step.
	Also []AuditEvent
}

// Chunk is one call's share of a batch's move.
type Chunk struct {
	Batch Batch
	// PerWrite, when above zero, is the most items one atomic write moves
	// with the batch's progress (the store's own limit when zero or above).
	PerWrite int
	// Short says the caller has little time left: the call makes one
	// atomic write, however many it would amortise its read over.
	Short bool
	// Clock tells the time of each move (movedAt) and of the closing, when
	// it is written; nil is the system clock.
	Clock func() time.Time
	// Closing is the batch's COMMITTING -> COMMITTED transition, written
	// with the move that empties the batch (one write fewer per batch). Its
	// audit event is stamped when it is written.
	Closing *Transition
}

// Time is the chunk's clock's time.
func (c Chunk) Time() time.Time {
	if c.Clock == nil {
		return time.Now().UTC()
	}
	return c.Clock()
}

// ChunkResult says what one MoveChunk did. Done: nothing is left to move.
// Closed: the batch is COMMITTED (by this call's closing, or another mover).
type ChunkResult struct {
	Moved        int
	Done, Closed bool
}

// CommitStart is what the point of no return needs.
type CommitStart struct {
	Batch      Batch
	QuotaLimit int // mini-programs the subject may hold on developer
	// BindSubject is the subject the target account gets bound to; "" binds
	// none (a personal batch, or a subject that is not certified).
	BindSubject string
	NewAccount  *TargetAccount // set when the batch chose mode "new"
	Deadline    time.Time      // when a batch still COMMITTING is overdue
	Audit       AuditEvent
}

// Signaller ends a parked wait of the workflow.
type Signaller interface {
	// Succeed ends the wait; output becomes the task's result (JSON).
	Succeed(ctx context.Context, token string, output any) error
	Fail(ctx context.Context, token, errorType, cause string) error
}

// Starter starts the workflow execution that drives a migration.
type Starter interface {
	StartExecution(ctx context.Context, name string, input any) (executionArn string, err error)
}

// Outcomes counts how batches end (the metrics adapter records them). Each is
// called once, by the use case whose write decided the outcome, so a retried
// step or a second mover does not count it again.
type Outcomes interface {
	// BatchCommitted: the batch's move finished, moved items in all.
	BatchCommitted(ctx context.Context, b Batch, moved int)
	// BatchFailed: the batch ended FAILED or EXPIRED, nothing moved; label
	// is its code, or the workflow error that failed it.
	BatchFailed(ctx context.Context, b Batch, label string)
	// BatchStalled: the workflow gave up moving the batch; label is the
	// workflow error it caught.
	BatchStalled(ctx context.Context, b Batch, label string)
}

// BatchLister lists the batches in a state whose last change is before a
// time, oldest first: the store, read by the rewake, the waiting probe and
// the reminders.
type BatchLister interface {
	BatchesInState(ctx context.Context, state BatchState, updatedBefore time.Time, limit int) ([]Batch, error)
}
