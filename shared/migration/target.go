package migration

import "context"

// Candidates lists the caller's existing accounts that may receive the batch.
func (s *Migrator) Candidates(ctx context.Context, src AccountRef, migrationID, batchID string) ([]TargetAccount, Batch, error) {
	b, err := s.OwnBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return nil, Batch{}, err
	}
	all, err := s.Store.TargetCandidates(ctx, b.TargetPlatform, b.Login)
	if err != nil {
		return nil, Batch{}, err
	}
	out := all[:0]
	for _, t := range all {
		if CheckTarget(t, b.Login, b.TargetPlatform, b.SubjectID) == nil {
			out = append(out, t)
		}
	}
	return out, b, nil
}

// SelectTarget records the developer's target choice.
func (s *Migrator) SelectTarget(ctx context.Context, src AccountRef, migrationID, batchID string, t Target) (Batch, error) {
	b, err := s.drivenBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	return s.selectTarget(ctx, b, t)
}

func (s *Migrator) selectTarget(ctx context.Context, b Batch, t Target) (Batch, error) {
	if err := t.Validate(); err != nil {
		return Batch{}, err
	}
	if b.State == AwaitingAgreement {
		return Batch{}, Errorf(CodeAgreementRequired, "accept the agreement before choosing a target")
	}
	if b.State != AwaitingTarget && b.State != AwaitingConfirmation {
		return Batch{}, Errorf(CodeWrongStep, "batch is %s", b.State)
	}
	tr, err := s.targetTransition(ctx, b, t)
	if err != nil {
		return Batch{}, err
	}
	return s.advance(ctx, b, StepTarget, tr)
}

// targetTransition checks that t may receive b's assets and is the
// transition's target part.
func (s *Migrator) targetTransition(ctx context.Context, b Batch, t Target) (Transition, error) {
	if err := t.Validate(); err != nil {
		return Transition{}, err
	}
	if t.Mode == TargetModeExisting {
		acct, err := s.Store.TargetAccount(ctx, b.TargetPlatform, t.AccountID)
		if IsCode(err, CodeNotFound) {
			return Transition{}, Errorf(CodeTargetNotEligible, "account %s is not one of your accounts on %s", t.AccountID, b.TargetPlatform)
		} else if err != nil {
			return Transition{}, err
		}
		if err := CheckTarget(acct, b.Login, b.TargetPlatform, b.SubjectID); err != nil {
			return Transition{}, err
		}
	}
	tt := t
	b.Target = &tt
	return Transition{Target: &tt, TargetAccountID: b.ResolveTargetAccountID()}, nil
}
