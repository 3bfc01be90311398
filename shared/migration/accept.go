package migration

import (
	"context"
	"log/slog"
)

// ViewAgreement returns the agreement in the default language and records
// that the caller viewed it.
func (s *DeveloperActions) ViewAgreement(ctx context.Context, src AccountRef, meta RequestMeta) (Agreement, error) {
	return s.ViewAgreementIn(ctx, src, DefaultAgreementLang, meta)
}

// ViewAgreementIn returns the agreement in lang (LangZH or LangEN) and
// records that the caller viewed that text: accepting binds to its hash.
func (s *DeveloperActions) ViewAgreementIn(ctx context.Context, src AccountRef, lang string, meta RequestMeta) (Agreement, error) {
	a, ok := AgreementIn(lang)
	if !ok {
		return Agreement{}, Errorf(CodeInvalidInput, "the agreement is written in %s and %s, not %q", LangZH, LangEN, lang)
	}
	if _, err := s.Store.SourceAccount(ctx, src); err != nil {
		return Agreement{}, err
	}
	ev := AuditEvent{At: s.stamp(), Event: EventAgreementViewed, Account: src.String(), Actor: src.String(),
		Detail: map[string]any{"version": a.Version, "sha256": a.SHA256, "lang": a.Lang, "sourceIp": meta.SourceIP, "userAgent": meta.UserAgent}}
	return a, s.Store.RecordView(ctx, src, a, ev)
}

// RequestMeta is where a developer's request came from.
type RequestMeta struct {
	SourceIP  string
	UserAgent string
}

// AcceptAgreement records the developer's acceptance of the agreement they viewed.
func (s *DeveloperActions) AcceptAgreement(ctx context.Context, src AccountRef, migrationID, batchID, version, sha string, meta RequestMeta) (Batch, error) {
	b, err := s.drivenBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.Agreement != nil && b.Agreement.Version == version && b.Agreement.SHA256 == sha && StepAgreement.Done(b.State) {
		return b, nil // accepted already: answering again changes nothing
	}
	viewed, err := s.Store.HasViewed(ctx, src, version, sha)
	if err != nil {
		return Batch{}, err
	}
	if !viewed {
		if err := CheckAcceptance(version, sha); err != nil {
			return Batch{}, err
		}
		return Batch{}, Errorf(CodeAgreementNotViewed, "view the agreement (GET /v1/agreement) before accepting it")
	}
	if err := CheckAcceptance(version, sha); err != nil {
		return Batch{}, err
	}
	lang, _ := agreementLang(sha)
	acc := &Acceptance{Version: version, SHA256: sha, Lang: lang, AcceptedBy: src.String(), AcceptedAt: s.stamp(),
		SourceIP: meta.SourceIP, UserAgent: meta.UserAgent, Channel: "developer"}
	nb, err := s.advance(ctx, b, StepAgreement, Transition{Agreement: acc})
	if IsCode(err, CodeWrongStep) {
		// Two clicks at once: the other one recorded the same acceptance.
		cur, rerr := s.Store.Batch(ctx, migrationID, batchID)
		if rerr != nil {
			return Batch{}, rerr // unknown whether the other one did: try again, not WRONG_STEP
		}
		if cur.Agreement != nil && cur.Agreement.Version == version && cur.Agreement.SHA256 == sha && StepAgreement.Done(cur.State) {
			return cur, nil
		}
	}
	return nb, err
}

// advance moves a batch past a step and wakes the workflow's wait for it.
func (s *DeveloperActions) advance(ctx context.Context, b Batch, step Step, t Transition) (Batch, error) {
	next := map[Step]BatchState{StepAgreement: AwaitingTarget, StepTarget: AwaitingConfirmation}[step]
	t.MigrationID, t.BatchID = b.MigrationID, b.BatchID
	t.From, t.To = []BatchState{step.WaitState()}, next
	if step == StepTarget {
		// The target may be changed until the batch is confirmed.
		t.From = []BatchState{AwaitingTarget, AwaitingConfirmation}
	}
	if err := s.pastDeadline(ctx, b); err != nil {
		return Batch{}, err
	}
	event := map[Step]string{StepAgreement: EventAgreementAccepted, StepTarget: EventTargetSelected}[step]
	at := s.stamp()
	t.Audit = AuditEvent{At: at, Event: event, Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID,
		BatchKey: b.BatchKey, From: b.State, To: next, Agreement: t.Agreement, Target: t.Target}
	if t.Agreement != nil {
		t.Audit.Actor = t.Agreement.AcceptedBy
		// Where the acceptance came from is kept in its audit record only,
		// for the retention period (docs/PRIVACY.md); the batch keeps the fact.
		kept := *t.Agreement
		kept.SourceIP, kept.UserAgent = "", ""
		t.Agreement = &kept
	}
	if step == StepAgreement && t.Target != nil {
		// Ops input that names the target too: both steps in one write, each
		// with its own audit event.
		t.To = AwaitingConfirmation
		t.Audit.Target = nil
		t.Also = []AuditEvent{{At: at, Event: EventTargetSelected, Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID,
			BatchKey: b.BatchKey, From: next, To: AwaitingConfirmation, Target: t.Target}}
	}
	if _, err := s.Store.Transition(ctx, t); err != nil {
		return Batch{}, err
	}
	return s.wake(ctx, b.MigrationID, b.BatchID, step)
}

// wake re-reads the batch and ends the workflow's parked wait for step, if one
// is parked. The wait may also find the batch past the step itself and end at
// once; between the two, every wait ends exactly when its step is done.
func (s *DeveloperActions) wake(ctx context.Context, migrationID, batchID string, step Step) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if tok := b.Tokens[step]; tok != "" && s.Signal != nil {
		if err := s.Signal.Succeed(ctx, tok, s.waitDeadline(b)); err != nil {
			// A token of a wait that already ended: nothing waits on it any more.
			slog.WarnContext(ctx, "signal parked wait", "migrationId", migrationID, "batchId", batchID, "step", string(step), "error", err)
		}
	}
	return b, nil
}
