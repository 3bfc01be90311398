package migration

import (
	"context"
	"errors"
	"log/slog"
)

// acceptByOps applies an agreement pre-recorded in the execution input. It
// records the version with that version's own hash (taken when the input was
// checked); a version no longer in force is not applied: the developer
// accepts the one in force. An acceptance that got there first (the
// developer's own) is a success: the batch is past the step, recorded once.
func (s *WorkflowSteps) acceptByOps(ctx context.Context, b Batch, m Migration) (Batch, error) {
	oa := *m.Ops.Agreement
	if oa.SHA256 == "" && oa.Version == CurrentAgreement().Version {
		oa.SHA256 = CurrentAgreement().SHA256 // recorded before the hash was kept
	}
	if err := CheckAcceptance(oa.Version, oa.SHA256); err != nil {
		slog.WarnContext(ctx, "ops agreement not applied", "migrationId", b.MigrationID, "batchId", b.BatchID, "version", oa.Version, "error", err)
		return b, nil
	}
	lang, _ := agreementLang(oa.SHA256)
	acc := &Acceptance{Version: oa.Version, SHA256: oa.SHA256, Lang: lang, AcceptedBy: oa.AcceptedBy,
		AcceptedAt: s.stamp(), Evidence: oa.Evidence, Channel: "ops:" + m.RequestedBy}
	tr := Transition{}
	if t, ok := m.Ops.Targets[b.BatchKey]; ok {
		// The ops target goes in the same write when it may receive the
		// batch; when it may not, the target wait refuses it as usual.
		if withTarget, err := s.developer().targetTransition(ctx, b, t); err == nil {
			tr = withTarget
		} else if !IsCode(err, CodeTargetNotEligible) {
			return Batch{}, err
		}
	}
	tr.Agreement = acc
	nb, err := s.developer().advance(ctx, b, StepAgreement, tr)
	if IsCode(err, CodeWrongStep) {
		cur, rerr := s.Store.Batch(ctx, b.MigrationID, b.BatchID)
		if rerr != nil {
			return Batch{}, rerr // a failed re-read is no WRONG_STEP: the wait retries it
		}
		if cur.Agreement != nil && StepAgreement.Done(cur.State) {
			return cur, nil
		}
	}
	return nb, err
}

// applyOpsTarget applies the target ops chose for the batch, once: it never
// replaces a target chosen since the batch was read (the write checks the
// target it replaces: the developer's own choice stands), and a target that
// may not receive the batch sends it back to the developer, AWAITING_TARGET
// with the refusal as lastRefusal, as the point of no return does with a
// target taken. The wait that follows is the developer's.
func (s *WorkflowSteps) applyOpsTarget(ctx context.Context, b Batch, m Migration, t Target) (Batch, error) {
	read := b.TargetAccountID
	nb, err := s.developer().selectTarget(ctx, b, t, &read)
	switch {
	case IsCode(err, CodeTargetNotEligible):
		return s.refuseOpsTarget(ctx, b, m, t, err)
	case IsCode(err, CodeWrongStep):
		// Another write got there first (the developer chose, or the batch
		// moved on): what it wrote stands; the wait goes on from there.
		return s.Store.Batch(ctx, b.MigrationID, b.BatchID)
	}
	return nb, err
}

// refuseOpsTarget records why the ops target was refused and leaves the
// batch waiting for the developer's target.
func (s *WorkflowSteps) refuseOpsTarget(ctx context.Context, b Batch, m Migration, t Target, cause error) (Batch, error) {
	var ce *Error
	if !errors.As(cause, &ce) {
		return Batch{}, cause
	}
	be := &BatchError{Code: ce.Code, Message: "the target ops chose was refused: " + ce.Message}
	none := ""
	tr := Transition{MigrationID: b.MigrationID, BatchID: b.BatchID, From: []BatchState{AwaitingTarget}, To: AwaitingTarget,
		LastRefusal: be, ReplacesTarget: &none,
		Audit: AuditEvent{At: s.stamp(), Event: EventTargetRefused, Account: b.Source.String(), MigrationID: b.MigrationID,
			BatchID: b.BatchID, BatchKey: b.BatchKey, From: AwaitingTarget, To: AwaitingTarget, Actor: m.RequestedBy, Target: &t, Error: be}}
	nb, err := s.Store.Transition(ctx, tr)
	if IsCode(err, CodeWrongStep) {
		return s.Store.Batch(ctx, b.MigrationID, b.BatchID) // the developer chose meanwhile
	}
	return nb, err
}

func (s *WorkflowSteps) applyOps(ctx context.Context, m Migration, b Batch, step Step) (Batch, error) {
	if m.Ops == nil {
		return b, nil
	}
	switch {
	case step == StepAgreement && m.Ops.Agreement != nil:
		return s.acceptByOps(ctx, b, m)
	case step == StepTarget:
		// Ops targets apply once: a target taken at the point of no return
		// is the developer's choice to make again.
		if t, ok := m.Ops.Targets[b.BatchKey]; ok && b.LastRefusal == nil {
			return s.applyOpsTarget(ctx, b, m, t)
		}
	case step == StepConfirmation && m.Ops.Confirm:
		// Ops confirm only what they targeted, and only while the batch still
		// has that target: any other batch waits for the developer.
		t, ok := m.Ops.Targets[b.BatchKey]
		if !ok || b.Target == nil || *b.Target != t || b.LastRefusal != nil {
			return b, nil
		}
		nb, err := s.developer().confirm(ctx, b, m.RequestedBy)
		if IsCode(err, CodeTargetNotEligible) {
			// Back in AWAITING_TARGET: the wait ends with TargetTaken below.
			return s.Store.Batch(ctx, b.MigrationID, b.BatchID)
		}
		return nb, err
	}
	return b, nil
}
