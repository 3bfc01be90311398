package migration

import "context"

// Await parks the workflow's wait for a step. First it applies what ops
// pre-recorded for the step; then, if the batch is already past the step, the
// wait ends at once; if the batch has ended, it fails.
func (s *WorkflowSteps) Await(ctx context.Context, migrationID, batchID string, step Step, token string) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.State == step.WaitState() {
		m, err := s.Store.Migration(ctx, migrationID)
		if err != nil {
			return Batch{}, err
		}
		if b, err = s.applyOps(ctx, m, b, step); err != nil {
			return Batch{}, err
		}
	}
	if step.Done(b.State) {
		// Ops input (or a quick developer) already took the batch past the
		// step: end the wait at once, without parking a token nobody will use.
		return b, s.Signal.Succeed(ctx, token, s.waitDeadline(b))
	}
	b, parked, err := s.Store.ParkToken(ctx, migrationID, batchID, step, token)
	// A batch can leave the wait state and come back to it between the park
	// and the read after it (a taken target sends it back to AWAITING_TARGET,
	// and a new choice brings it to AWAITING_CONFIRMATION again): park again.
	for attempt := 0; err == nil && !parked && b.State == step.WaitState() && attempt < 3; attempt++ {
		b, parked, err = s.Store.ParkToken(ctx, migrationID, batchID, step, token)
	}
	if err != nil || parked {
		return b, err
	}
	switch {
	case step == StepConfirmation && b.State == AwaitingTarget:
		return b, s.Signal.Fail(ctx, token, TargetTakenErrorType, s.developer().targetTakenCause(b))
	case step.Done(b.State):
		return b, s.Signal.Succeed(ctx, token, s.waitDeadline(b))
	case b.State.Final():
		code := ""
		if b.Error != nil {
			code = string(b.Error.Code)
		}
		return b, s.Signal.Fail(ctx, token, BatchClosedErrorType, code)
	}
	return b, Errorf(CodeWrongStep, "batch is %s, not waiting for %s", b.State, step)
}
