package migration

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

// Confirm is the developer's irreversible confirmation. Confirming a batch that
// is already past the point of no return answers with it, unchanged.
func (s *DeveloperActions) Confirm(ctx context.Context, src AccountRef, migrationID, batchID string) (Batch, error) {
	b, err := s.drivenBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	return s.confirm(ctx, b, src.String())
}

func (s *DeveloperActions) confirm(ctx context.Context, b Batch, actor string) (Batch, error) {
	switch {
	case b.State.PastPointOfNoReturn():
		return b, nil
	case b.State == AwaitingAgreement:
		return Batch{}, Errorf(CodeWrongStep, "accept the agreement and choose a target before confirming")
	case b.State == AwaitingTarget:
		return Batch{}, Errorf(CodeWrongStep, "choose a target before confirming")
	case b.State != AwaitingConfirmation:
		return Batch{}, Errorf(CodeWrongStep, "batch is %s", b.State)
	}
	if err := s.pastDeadline(ctx, b); err != nil {
		return Batch{}, err
	}
	c := CommitStart{Batch: b, Deadline: s.now().Add(s.commitOverdue()),
		Audit: AuditEvent{At: s.stamp(), Event: EventCommitStarted, Account: b.Source.String(), MigrationID: b.MigrationID,
			BatchID: b.BatchID, BatchKey: b.BatchKey, From: AwaitingConfirmation, To: Committing, Actor: actor, Target: b.Target,
			Detail: map[string]any{"targetAccountId": b.TargetAccountID, "total": b.Total}}}
	if b.TargetPlatform == TargetDeveloper {
		// The store counts the mini-programs it finds still held by the
		// source, with the subject's existing holdings, against this limit.
		c.QuotaLimit = MiniProgramQuota(b.SubjectKind)
	}
	bind, err := s.bindable(ctx, b.SubjectID)
	if err != nil {
		return Batch{}, err
	}
	c.BindSubject = bind
	if b.Target != nil && b.Target.Mode == TargetModeNew {
		c.NewAccount = &TargetAccount{Platform: b.TargetPlatform, ID: b.TargetAccountID, Login: b.Login, Onboarding: OnboardingCompleted, SubjectID: bind}
	}
	err = s.Store.PassPointOfNoReturn(ctx, c)
	switch {
	case err == nil:
	case IsCode(err, CodeTargetNotEligible):
		return s.retarget(ctx, b, err)
	case IsCode(err, CodeQuotaExceeded), IsCode(err, CodeNothingToMove), IsCode(err, CodeWrongStep):
		cur, rerr := s.Store.Batch(ctx, b.MigrationID, b.BatchID)
		if rerr == nil && cur.State.PastPointOfNoReturn() {
			return cur, nil // a second click, or a retry: the first one passed
		}
		if IsCode(err, CodeWrongStep) {
			return Batch{}, err
		}
		return s.refuse(ctx, b, err)
	default:
		return Batch{}, err
	}
	return s.wake(ctx, b.MigrationID, b.BatchID, StepConfirmation)
}

// bindable is the subject a commit binds to its target account: none for a
// personal batch or a subject that is not certified (docs/CONTRACT.md §4).
func (s *DeveloperActions) bindable(ctx context.Context, subjectID string) (string, error) {
	if subjectID == "" || subjectID == PersonalSubject {
		return "", nil
	}
	sub, err := s.Store.Subject(ctx, subjectID)
	if err != nil {
		return "", err
	}
	if !sub.Certified {
		return "", nil
	}
	return subjectID, nil
}

// retarget sends a batch whose target was taken at the point of no return (a
// sibling bound the account to another subject first) back to
// AWAITING_TARGET, nothing moved, the reason on the batch; a parked wait for
// its confirmation ends with TargetTaken so the workflow waits for a target
// again. The caller still gets the refusal.
func (s *DeveloperActions) retarget(ctx context.Context, b Batch, cause error) (Batch, error) {
	var ce *Error
	if !errors.As(cause, &ce) {
		return Batch{}, cause
	}
	be := &BatchError{Code: ce.Code, Message: ce.Message}
	t := Transition{MigrationID: b.MigrationID, BatchID: b.BatchID, From: []BatchState{AwaitingConfirmation}, To: AwaitingTarget,
		LastRefusal: be, ClearTarget: b.TargetAccountID,
		Audit: AuditEvent{At: s.stamp(), Event: EventTargetRefused, Account: b.Source.String(), MigrationID: b.MigrationID,
			BatchID: b.BatchID, BatchKey: b.BatchKey, From: AwaitingConfirmation, To: AwaitingTarget, Target: b.Target, Error: be}}
	if _, err := s.Store.Transition(ctx, t); err != nil && !IsCode(err, CodeWrongStep) {
		return Batch{}, err
	}
	cur, err := s.Store.Batch(ctx, b.MigrationID, b.BatchID)
	if err != nil {
		return Batch{}, err
	}
	if cur.State.PastPointOfNoReturn() {
		return cur, nil // another click passed first; this one read the account after
	}
	if tok := cur.Tokens[StepConfirmation]; tok != "" && cur.State == AwaitingTarget && s.Signal != nil {
		if err := s.Signal.Fail(ctx, tok, TargetTakenErrorType, s.targetTakenCause(cur)); err != nil {
			slog.WarnContext(ctx, "signal parked wait", "migrationId", b.MigrationID, "batchId", b.BatchID, "error", err)
		}
	}
	return Batch{}, cause
}

func (s *Deps) commitOverdue() time.Duration {
	if s.CommitOverdue > 0 {
		return s.CommitOverdue
	}
	return time.Hour
}

// refuse ends a batch that a rule forbids committing: FAILED with the code,
// nothing moved. The workflow's wait for confirmation ends with the failure.
func (s *DeveloperActions) refuse(ctx context.Context, b Batch, cause error) (Batch, error) {
	var ce *Error
	if !errors.As(cause, &ce) {
		return Batch{}, cause
	}
	if _, err := s.steps().Fail(ctx, b.MigrationID, b.BatchID, ce.Code, ce.Message); err != nil && !IsCode(err, CodeWrongStep) {
		return Batch{}, err
	}
	return Batch{}, cause
}

// BatchClosedErrorType is the error the workflow sees when a batch it waits on
// has ended without committing.
const BatchClosedErrorType = "BatchClosed"

// TargetTakenErrorType is the error the workflow's confirmation wait sees
// when the batch went back to AWAITING_TARGET (its target was taken at the
// point of no return): the workflow waits for a target again.
const TargetTakenErrorType = "TargetTaken"

// targetTakenCause is the cause of a TargetTaken failure: the deadline of the
// target wait the workflow goes back to (it reads it as JSON), so the batch's
// one deadline holds on that path too.
func (s *DeveloperActions) targetTakenCause(b Batch) string {
	out, _ := json.Marshal(s.waitDeadline(b))
	return string(out)
}
