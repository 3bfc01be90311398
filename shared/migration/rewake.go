package migration

import (
	"context"
	"log/slog"
	"time"
)

// RewakeAfter is how long after a step was done a wake the workflow may not
// have heard is sent again: longer than a wake and its retries take.
const RewakeAfter = time.Minute

// unheardWake is the wait a batch's last step should have ended, when
// nothing shows the workflow heard it: the batch is past the step, and the
// workflow has neither parked the next wait nor started moving. "" when
// there is none.
func unheardWake(b Batch) (Step, string) {
	switch {
	case b.State == AwaitingTarget && b.Tokens[StepTarget] == "":
		return StepAgreement, b.Tokens[StepAgreement]
	case b.State == AwaitingConfirmation && b.Tokens[StepConfirmation] == "":
		return StepTarget, b.Tokens[StepTarget]
	case b.State == Committing && b.Moved == 0 && b.Error == nil:
		return StepConfirmation, b.Tokens[StepConfirmation]
	}
	return "", ""
}

// Rewake sends again the wakes a workflow may not have heard: a wake whose
// SendTaskSuccess failed for good (throttled in a cohort burst, say) would
// otherwise leave the batch's wait parked until its deadline while the
// developer sees the step done. Sending again is safe: a wait that already
// heard it refuses the token, and that is all. It answers how many wakes
// were delivered now. The waiting probe runs it on its schedule.
func (s *WorkflowSteps) Rewake(ctx context.Context, l BatchLister) (int, error) {
	if s.Signal == nil {
		return 0, nil
	}
	delivered := 0
	before := s.now().Add(-RewakeAfter)
	for _, st := range []BatchState{AwaitingTarget, AwaitingConfirmation, Committing} {
		bs, err := l.BatchesInState(ctx, st, before, 0)
		if err != nil {
			return delivered, err
		}
		for _, b := range bs {
			step, tok := unheardWake(b)
			if tok == "" {
				continue
			}
			if err := s.Signal.Succeed(ctx, tok, s.waitDeadline(b)); err != nil {
				// Heard already (the token is spent), or the workflow is gone
				// (opsctl stuck shows it), or still failing: the next run tries again.
				slog.DebugContext(ctx, "wake not delivered", "migrationId", b.MigrationID, "batchId", b.BatchID, "step", string(step), "error", err)
				continue
			}
			slog.WarnContext(ctx, "a wake the workflow had not heard was delivered again", "migrationId", b.MigrationID, "batchId", b.BatchID, "step", string(step))
			delivered++
		}
	}
	return delivered, nil
}
