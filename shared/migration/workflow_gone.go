package migration

import (
	"context"
	"time"
)

// WorkflowProbe is what a Signaller may also tell: whether a parked wait
// still waits, and whether the migration's execution still runs. The Step
// Functions adapter answers both; without it no action is refused for it.
type WorkflowProbe interface {
	// WaitAlive reports whether the task that parked token still waits on it.
	WaitAlive(ctx context.Context, token string) (bool, error)
	// ExecutionRunning reports whether the execution is still RUNNING.
	ExecutionRunning(ctx context.Context, executionArn string) (bool, error)
}

// parkGrace is how long after a batch last changed its parked token may still
// be an earlier wait's (a target taken at the point of no return sends the
// batch back to a wait the workflow is still entering, with its Lambda's
// retries): until then a dead token alone does not prove the workflow gone.
const parkGrace = 2 * time.Minute

// workflowAlive refuses an action on a waiting batch whose workflow can no
// longer hear it: its parked wait has ended without the step being done (the
// batch's child execution failed, timed out or was stopped), or the
// migration's execution is no longer running. Taking the batch a step
// further would leave it, or commit it, with nothing to move it on.
func (s *WorkflowSteps) workflowAlive(ctx context.Context, m Migration, b Batch) error {
	probe, ok := s.Signal.(WorkflowProbe)
	if !ok || !b.State.WaitingOnDeveloper() {
		return nil
	}
	var step Step
	for _, st := range []Step{StepAgreement, StepTarget, StepConfirmation} {
		if st.WaitState() == b.State {
			step = st
		}
	}
	if tok := b.Tokens[step]; tok != "" {
		alive, err := probe.WaitAlive(ctx, tok)
		if err != nil {
			return &Error{Code: CodeUnavailable, Message: "could not reach the workflow; try again", Err: err}
		}
		if alive {
			return nil
		}
		if at, err := time.Parse(time.RFC3339Nano, b.UpdatedAt); err != nil || s.now().Sub(at) > parkGrace {
			return workflowGone(b)
		}
	}
	if m.ExecutionArn == "" {
		return nil
	}
	running, err := probe.ExecutionRunning(ctx, m.ExecutionArn)
	if err != nil {
		return &Error{Code: CodeUnavailable, Message: "could not reach the workflow; try again", Err: err}
	}
	if !running {
		return workflowGone(b)
	}
	return nil
}

func workflowGone(b Batch) error {
	return Errorf(CodeWorkflowGone, "the workflow of batch %s has ended, so it cannot act on this batch; nothing changed. Ops must close it (opsctl stuck shows it) before you start again", b.BatchKey)
}

// WorkflowGone reports whether a batch waiting on its developer has lost the
// workflow that would take it on (what the API refuses with WORKFLOW_GONE),
// for ops (opsctl stuck).
func (s *WorkflowSteps) WorkflowGone(ctx context.Context, b Batch) (bool, error) {
	m, err := s.Store.Migration(ctx, b.MigrationID)
	if err != nil {
		return false, err
	}
	err = s.workflowAlive(ctx, m, b)
	if IsCode(err, CodeWorkflowGone) {
		return true, nil
	}
	return false, err
}
