// Package workflow holds the Lambda handlers of the state machine's steps. Each
// decodes its payload, calls the same use case the HTTP API calls, and returns
// ids and counts only: never asset lists (state payloads stay small).
package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/devplatform/account-migration/shared/metrics"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/strictjson"
)

// UseCases are the use cases the workflow's steps call: the workflow's own
// (migration.WorkflowSteps) and the read of a batch after it ended.
// *migration.Migrator has them all.
type UseCases interface {
	Begin(ctx context.Context, in migration.BeginInput) (migration.BeginResult, error)
	Batches(ctx context.Context, migrationID string) ([]migration.Batch, migration.WaitDeadline, error)
	Await(ctx context.Context, migrationID, batchID string, step migration.Step, token string) (migration.Batch, error)
	AnnounceWait(ctx context.Context, b migration.Batch) error
	Move(ctx context.Context, migrationID, batchID string, until time.Time) (migration.Progress, error)
	HandOff(ctx context.Context, migrationID, batchID string) (migration.Manifest, error)
	Expire(ctx context.Context, migrationID, batchID string) (migration.Batch, error)
	FailCaught(ctx context.Context, migrationID, batchID, caught, message string) (migration.Batch, error)
	Stall(ctx context.Context, migrationID, batchID, caught, message string) (migration.Batch, error)
	Abandon(ctx context.Context, migrationID, message string) (migration.Summary, error)
	Summarize(ctx context.Context, migrationID string) (migration.Summary, error)
	Batch(ctx context.Context, migrationID, batchID string) (migration.Batch, error)
}

// Steps are the workflow's handlers over its use cases.
type Steps struct {
	Migrator UseCases
	// MoveBudget bounds how long one Move invocation works before it hands
	// back to the workflow (MOVE_INVOCATION_SECONDS); 0: until the Lambda's
	// time nearly runs out. The deadline's margin applies in any case.
	MoveBudget time.Duration
}

// ExecutionInput is what ops (or the HTTP API) start an execution with
// (docs/CONTRACT.md §3). Only source and requestedBy are required.
type ExecutionInput struct {
	Source      migration.AccountRef        `json:"source"`
	RequestedBy string                      `json:"requestedBy"`
	BatchKeys   []string                    `json:"batchKeys,omitempty"`
	Agreement   *migration.OpsAgreement     `json:"agreement,omitempty"`
	Targets     map[string]migration.Target `json:"targets,omitempty"`
	Confirm     *bool                       `json:"confirm,omitempty"`
}

// ParseExecutionInput decodes and checks an execution input strictly: unknown
// fields and missing required ones are refused.
func ParseExecutionInput(raw []byte) (ExecutionInput, error) {
	var in ExecutionInput
	if err := strictjson.Decode(raw, &in); err != nil {
		return in, migration.Errorf(migration.CodeInvalidInput, "execution input is not valid: %s", strictjson.Problem(err))
	}
	if !migration.SourcePlatform(in.Source.Platform).Valid() {
		return in, migration.Errorf(migration.CodeInvalidInput, "source.platform must be microapp, douyin_open_legacy or third_party")
	}
	if !migration.ValidID(in.Source.ID) {
		return in, migration.Errorf(migration.CodeInvalidInput, "source.accountId is not valid")
	}
	if in.RequestedBy == "" || len(in.RequestedBy) > 256 {
		return in, migration.Errorf(migration.CodeInvalidInput, "requestedBy is required")
	}
	return in, nil
}

func (in ExecutionInput) ops() *migration.OpsInstructions {
	if in.Agreement == nil && len(in.Targets) == 0 && (in.Confirm == nil || !*in.Confirm) {
		return nil
	}
	return &migration.OpsInstructions{Agreement: in.Agreement, Targets: in.Targets, Confirm: in.Confirm != nil && *in.Confirm}
}

// BeginEvent is the first step's payload.
type BeginEvent struct {
	MigrationID  string          `json:"migrationId"`  // $$.Execution.Name
	ExecutionArn string          `json:"executionArn"` // $$.Execution.Id
	Input        json.RawMessage `json:"input"`
}

// BeginResult says whether the execution goes on.
type BeginResult struct {
	MigrationID       string `json:"migrationId"`
	Eligible          bool   `json:"eligible"`
	ActiveMigrationID string `json:"activeMigrationId,omitempty"`
	State             string `json:"state,omitempty"`
}

// ListAssets claims the account for this execution's migration and lists
// what it holds (counts only). Another active migration ends this execution
// at once, naming it.
func (s Steps) ListAssets(ctx context.Context, ev BeginEvent) (BeginResult, error) {
	log := stepLog("list-assets", ev.MigrationID, "")
	in, err := ParseExecutionInput(ev.Input)
	if err != nil {
		return BeginResult{}, failed(ctx, log, err)
	}
	res, err := s.Migrator.Begin(ctx, migration.BeginInput{MigrationID: ev.MigrationID, Source: in.Source, RequestedBy: in.RequestedBy,
		BatchKeys: in.BatchKeys, Ops: in.ops(), ExecutionArn: ev.ExecutionArn})
	if err != nil {
		return BeginResult{}, failed(ctx, log, err)
	}
	if res.ActiveMigrationID != "" {
		log.InfoContext(ctx, "account already has an active migration", "activeMigrationId", res.ActiveMigrationID)
		return BeginResult{MigrationID: res.ActiveMigrationID, ActiveMigrationID: res.ActiveMigrationID, State: string(migration.MigrationInProgress)}, nil
	}
	log.InfoContext(ctx, "migration begun", "eligible", res.Eligible, "batches", len(res.BatchIDs))
	return BeginResult{MigrationID: res.MigrationID, Eligible: res.Eligible}, nil
}

// MigrationEvent names a migration.
type MigrationEvent struct {
	MigrationID string `json:"migrationId"`
	// ActiveMigrationID is set when ListAssets found another active migration
	// of the account: this execution splits nothing and ends naming it.
	ActiveMigrationID string `json:"activeMigrationId,omitempty"`
}

// SplitResult lists the batch ids the Map state iterates over, and what is
// left of the batches' one deadline for their first wait on the developer.
type SplitResult struct {
	MigrationID string `json:"migrationId"`
	// Always present ("" when none), so the Summarize step can pass it on.
	ActiveMigrationID string                 `json:"activeMigrationId"`
	BatchIDs          []string               `json:"batchIds"`
	Deadline          migration.WaitDeadline `json:"deadline"`
}

// SplitBySubject returns the migration's batches, one per subject and target
// platform (created by ListAssets' Begin, which applies migration.Place's split).
func (s Steps) SplitBySubject(ctx context.Context, ev MigrationEvent) (SplitResult, error) {
	log := stepLog("split-by-subject", ev.MigrationID, "")
	if ev.ActiveMigrationID != "" {
		// Nothing to split: the Map runs no branch, Summarize names the active one.
		return SplitResult{MigrationID: ev.MigrationID, ActiveMigrationID: ev.ActiveMigrationID, BatchIDs: []string{},
			Deadline: migration.WaitDeadline{TimeoutSeconds: 2, HeartbeatSeconds: 1}}, nil
	}
	batches, deadline, err := s.Migrator.Batches(ctx, ev.MigrationID)
	if err != nil {
		return SplitResult{}, failed(ctx, log, err)
	}
	out := SplitResult{MigrationID: ev.MigrationID, BatchIDs: make([]string, 0, len(batches)), Deadline: deadline}
	for _, b := range batches {
		out.BatchIDs = append(out.BatchIDs, b.BatchID)
	}
	log.InfoContext(ctx, "batches listed", "batches", len(out.BatchIDs))
	return out, nil
}

// WaitEvent is the payload of a callback wait: the batch and the task token.
type WaitEvent struct {
	Action      string `json:"action,omitempty"`
	MigrationID string `json:"migrationId"`
	BatchID     string `json:"batchId"`
	TaskToken   string `json:"taskToken,omitempty"`
}

// Ack is what a parking step returns; Step Functions waits for the token.
type Ack struct {
	State migration.BatchState `json:"state"`
}

func (s Steps) await(ctx context.Context, ev WaitEvent, step migration.Step) (Ack, error) {
	log := stepLog("await-"+string(step), ev.MigrationID, ev.BatchID)
	if ev.TaskToken == "" {
		return Ack{}, logged(ctx, log, &InvalidInput{Code: string(migration.CodeInvalidInput), Message: "taskToken is required"})
	}
	b, err := s.Migrator.Await(ctx, ev.MigrationID, ev.BatchID, step, ev.TaskToken)
	if err != nil {
		return Ack{}, failed(ctx, log, err)
	}
	log.InfoContext(ctx, "wait parked", "step", string(step), "state", string(b.State))
	if b.State == step.WaitState() {
		// How long the batch had waited when its wait was parked: near zero
		// unless the workflow was slow to get here (retries, throttling).
		if since, err := time.Parse(time.RFC3339Nano, b.UpdatedAt); err == nil {
			metrics.WaitParked(ctx, ev.MigrationID, ev.BatchID, string(step), time.Since(since))
		}
		// The developer's notice that the batch waits on them; a wait never
		// fails for its notice (the reminders come later all the same).
		if err := s.Migrator.AnnounceWait(ctx, b); err != nil {
			log.WarnContext(ctx, "BatchWaiting not sent", "error", err)
		}
	}
	return Ack{State: b.State}, nil
}

// RecordAgreement parks the wait for the agreement (or applies the one ops recorded).
func (s Steps) RecordAgreement(ctx context.Context, ev WaitEvent) (Ack, error) {
	return s.await(ctx, ev, migration.StepAgreement)
}

// SelectTarget parks the wait for the target (or applies the one ops chose).
func (s Steps) SelectTarget(ctx context.Context, ev WaitEvent) (Ack, error) {
	return s.await(ctx, ev, migration.StepTarget)
}

// MoveResult is the Move step's answer. Every field is always present (no
// omitempty): the Move state's ResultSelector reads all six whatever the
// answer, and a JSONPath that finds nothing is an uncatchable States.Runtime
// that ends the batch's branch. Before the move is done the target fields
// are still filled in; only done says whether the batch has committed.
type MoveResult struct {
	Done            bool   `json:"done"`
	Moved           int    `json:"moved"`
	Total           int    `json:"total"`
	BatchKey        string `json:"batchKey"`
	TargetPlatform  string `json:"targetPlatform"`
	TargetAccountID string `json:"targetAccountId"`
	// Manifest is where the committed batch's list is for the new platforms
	// (the BatchCommitted event names it); empty until done.
	Manifest migration.Manifest `json:"manifest"`
}

// Commit either parks the wait for the confirmation (action "await"), or moves
// the confirmed batch (action "move") for at most MoveBudget, never past the
// Lambda's time; the state machine loops while done is false.
func (s Steps) Commit(ctx context.Context, ev WaitEvent) (MoveResult, error) {
	log := stepLog("commit-"+ev.Action, ev.MigrationID, ev.BatchID)
	switch ev.Action {
	case "await":
		_, err := s.await(ctx, ev, migration.StepConfirmation)
		return MoveResult{}, err
	case "move":
		p, err := s.Migrator.Move(ctx, ev.MigrationID, ev.BatchID, s.moveUntil(ctx, time.Now()))
		if err != nil {
			log.ErrorContext(ctx, "move failed", "error", err)
			return MoveResult{}, boundary(err)
		}
		log.InfoContext(ctx, "moved", "moved", p.Moved, "total", p.Total, "done", p.Done)
		out := MoveResult{Done: p.Done, Moved: p.Moved, Total: p.Total, BatchKey: p.BatchKey,
			TargetPlatform: string(p.TargetPlatform), TargetAccountID: p.TargetAccountID}
		if p.Done {
			// The hand-off before the announcement: the receipt's hash in the
			// audit trail and the manifest written, or the step fails and is
			// retried (both are safe to repeat).
			m, err := s.Migrator.HandOff(ctx, ev.MigrationID, ev.BatchID)
			if err != nil {
				log.ErrorContext(ctx, "hand-off failed", "error", err)
				return MoveResult{}, boundary(err)
			}
			out.Manifest = m
		}
		return out, nil
	}
	return MoveResult{}, logged(ctx, log, &InvalidInput{Code: string(migration.CodeInvalidInput), Message: "action must be await or move"})
}

// moveUntil is when one Move invocation stops taking new chunks: MoveBudget
// after now, and never later than the Lambda's deadline less a fifth of the
// time left and 2 s (room for the last chunk and the answer).
func (s Steps) moveUntil(ctx context.Context, now time.Time) time.Time {
	var until time.Time
	if dl, ok := ctx.Deadline(); ok {
		until = dl.Add(-dl.Sub(now)/5 - 2*time.Second)
	}
	if s.MoveBudget > 0 {
		if budget := now.Add(s.MoveBudget); until.IsZero() || budget.Before(until) {
			until = budget
		}
	}
	return until
}

// FinishEvent ends a batch or the migration.
type FinishEvent struct {
	Action      string     `json:"action"` // expire | fail | stall | summarize | abandon
	MigrationID string     `json:"migrationId"`
	BatchID     string     `json:"batchId,omitempty"`
	Error       *TaskError `json:"error,omitempty"`
	// ActiveMigrationID (summarize): another migration of the account was
	// active, so this execution started nothing; its output names that one.
	ActiveMigrationID string `json:"activeMigrationId,omitempty"`
}

// TaskError is what a Catch puts at its ResultPath.
type TaskError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Finish expires or fails a waiting batch, or summarises the migration.
// EndResult answers an expire or fail: whether the batch had passed the point
// of no return before it could be ended (a confirmation that landed as the
// wait ended), in which case the branch goes on to move it.
type EndResult struct {
	Committing bool `json:"committing"`
}

// Finish expires or fails a waiting batch (answering EndResult), or
// summarises the migration (answering migration.Summary, the execution's output).
func (s Steps) Finish(ctx context.Context, ev FinishEvent) (any, error) {
	log := stepLog("finish-"+ev.Action, ev.MigrationID, ev.BatchID)
	switch ev.Action {
	case "expire":
		b, err := s.Migrator.Expire(ctx, ev.MigrationID, ev.BatchID)
		if err == nil {
			log.InfoContext(ctx, "batch expired", "state", string(b.State))
		}
		return s.ended(ctx, log, ev, err)
	case "fail":
		caught, msg := caughtError(ev.Error)
		// Counted by the error the state machine caught: bounded by the ASL's error names.
		b, err := s.Migrator.FailCaught(ctx, ev.MigrationID, ev.BatchID, caught, msg)
		if err == nil {
			log.WarnContext(ctx, "batch failed", "state", string(b.State), "caught", caught)
		}
		return s.ended(ctx, log, ev, err)
	case "stall":
		code, msg := caughtError(ev.Error)
		b, err := s.Migrator.Stall(ctx, ev.MigrationID, ev.BatchID, code, msg)
		if err != nil {
			return EndResult{}, failed(ctx, log, err)
		}
		log.ErrorContext(ctx, "move failed for good: batch stalled in COMMITTING until ops resume it", "state", string(b.State), "caught", code)
		return EndResult{Committing: b.State == migration.Committing}, nil
	case "abandon":
		_, msg := caughtError(ev.Error)
		sum, err := s.Migrator.Abandon(ctx, ev.MigrationID, msg)
		if err == nil {
			log.ErrorContext(ctx, "the workflow failed outside the batches' branches: waiting batches ended, migration summarised",
				"state", string(sum.State), "caught", msg)
		}
		return sum, failed(ctx, log, err)
	case "summarize":
		if ev.ActiveMigrationID != "" {
			log.InfoContext(ctx, "account already has an active migration", "activeMigrationId", ev.ActiveMigrationID)
			return migration.Summary{MigrationID: ev.ActiveMigrationID, ActiveMigrationID: ev.ActiveMigrationID,
				State: migration.MigrationInProgress, Counts: map[migration.BatchState]int{}, Batches: []migration.BatchSummary{}}, nil
		}
		sum, err := s.Migrator.Summarize(ctx, ev.MigrationID)
		if err == nil {
			log.InfoContext(ctx, "migration summarized", "state", string(sum.State), "batches", len(sum.Batches))
		}
		return sum, failed(ctx, log, err)
	}
	return migration.Summary{}, logged(ctx, log, &InvalidInput{Code: string(migration.CodeInvalidInput), Message: "action must be expire, fail, stall, summarize or abandon"})
}

// caughtError names what a Catch caught, and a message for the batch's error.
func caughtError(e *TaskError) (caught, message string) {
	if e == nil {
		return string(migration.CodeInternal), "the workflow failed this batch"
	}
	message = e.Error
	if e.Cause != "" && len(e.Cause) < 512 {
		message += ": " + e.Cause
	}
	return e.Error, message
}

// ended reads where the batch stands after an expire or fail: a batch that
// was confirmed meanwhile is COMMITTING, and then only moves forward.
func (s Steps) ended(ctx context.Context, log *slog.Logger, ev FinishEvent, err error) (any, error) {
	if err := ignoreWrongStep(err); err != nil {
		return EndResult{}, failed(ctx, log, err)
	}
	b, err := s.Migrator.Batch(ctx, ev.MigrationID, ev.BatchID)
	if err != nil {
		return EndResult{}, failed(ctx, log, err)
	}
	if b.State.PastPointOfNoReturn() {
		log.WarnContext(ctx, "batch confirmed as its wait ended: moving it", "state", string(b.State))
	}
	return EndResult{Committing: b.State.PastPointOfNoReturn()}, nil
}

// stepLog is one step's logger: the handler, migration and batch on every
// line (the Lambda log handler adds requestId from ctx).
func stepLog(step, migrationID, batchID string) *slog.Logger {
	l := slog.Default().With("handler", step, "migrationId", migrationID)
	if batchID != "" {
		l = l.With("batchId", batchID)
	}
	return l
}

// failed turns a use-case error into the typed error the state machine
// matches (boundary) and logs it; nil stays nil.
func failed(ctx context.Context, log *slog.Logger, err error) error {
	return logged(ctx, log, boundary(err))
}

// logged logs a typed workflow error on its way out, unchanged.
func logged(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	log.WarnContext(ctx, "step failed", "errorType", strings.TrimPrefix(fmt.Sprintf("%T", err), "*workflow."), "error", err.Error())
	return err
}

// ignoreWrongStep: a batch that already ended (or passed the point of no
// return) stays as it is.
func ignoreWrongStep(err error) error {
	if migration.IsCode(err, migration.CodeWrongStep) {
		return nil
	}
	return err
}
