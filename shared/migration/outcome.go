package migration

import "context"

// The outcomes that end a batch's branch of the workflow. Each is counted
// (Deps.Outcomes) here, by the write that decided it, and only when that
// write changed the batch: a retried step, a second click or a redrive finds
// the batch already there and counts nothing.

// Fail ends a batch that has not passed the point of no return as FAILED,
// counted under its code.
func (s *WorkflowSteps) Fail(ctx context.Context, migrationID, batchID string, code Code, message string) (Batch, error) {
	return s.end(ctx, migrationID, batchID, Failed, EventBatchFailed, &BatchError{Code: code, Message: message}, string(code))
}

// FailCaught ends a batch as FAILED (code INTERNAL) because the workflow
// caught caught, a workflow error name such as States.TaskFailed, in one of
// its steps; it is counted under that name, a set the state machine bounds.
func (s *WorkflowSteps) FailCaught(ctx context.Context, migrationID, batchID, caught, message string) (Batch, error) {
	return s.end(ctx, migrationID, batchID, Failed, EventBatchFailed, &BatchError{Code: CodeInternal, Message: message}, caught)
}

// Expire ends a batch that waited too long on the developer (rule 13).
func (s *WorkflowSteps) Expire(ctx context.Context, migrationID, batchID string) (Batch, error) {
	return s.end(ctx, migrationID, batchID, Expired, EventBatchExpired,
		&BatchError{Code: CodeExpired, Message: "the batch waited on the developer longer than allowed; start again"}, string(CodeExpired))
}

func (s *WorkflowSteps) end(ctx context.Context, migrationID, batchID string, to BatchState, event string, be *BatchError, label string) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.State == to {
		return b, nil
	}
	t := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{AwaitingAgreement, AwaitingTarget, AwaitingConfirmation},
		To: to, Error: be, Audit: AuditEvent{At: s.stamp(), Event: event, Account: b.Source.String(), MigrationID: migrationID,
			BatchID: batchID, BatchKey: b.BatchKey, From: b.State, To: to, Error: be}}
	b, err = s.Store.Transition(ctx, t)
	if err != nil {
		return Batch{}, err
	}
	s.Outcomes.BatchFailed(ctx, b, label)
	// Any wait still parked ends with the failure, so the workflow moves on.
	for _, tok := range b.Tokens {
		if tok != "" && s.Signal != nil {
			_ = s.Signal.Fail(ctx, tok, BatchClosedErrorType, string(be.Code))
		}
	}
	return b, nil
}

// Stall records why a batch past the point of no return could not be moved
// (the workflow's retries are spent, after catching caught). The batch stays
// COMMITTING, since the move only goes forward, and carries MOVE_STALLED
// until ops resume it (opsctl resume runs Move again); its siblings go on
// meanwhile. Unlike the ends above, each stall is counted, a repeated one too.
func (s *WorkflowSteps) Stall(ctx context.Context, migrationID, batchID, caught, message string) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.State != Committing {
		return b, nil // it finished meanwhile (another mover), or never started
	}
	be := &BatchError{Code: CodeMoveStalled, Message: message}
	t := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{Committing}, To: Committing, Error: be,
		Audit: AuditEvent{At: s.stamp(), Event: EventBatchStalled, Account: b.Source.String(), MigrationID: migrationID,
			BatchID: batchID, BatchKey: b.BatchKey, From: Committing, To: Committing, Error: be}}
	nb, err := s.Store.Transition(ctx, t)
	if IsCode(err, CodeWrongStep) {
		return nb, nil
	}
	if err == nil {
		// Every time the workflow gives up: after ops resume a batch that
		// stalls again, the alarm fires again.
		s.Outcomes.BatchStalled(ctx, nb, caught)
	}
	return nb, err
}
