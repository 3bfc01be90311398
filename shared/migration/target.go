package migration

import (
	"context"
)

// Candidates lists the caller's existing accounts that may receive the batch.
func (s *DeveloperActions) Candidates(ctx context.Context, src AccountRef, migrationID, batchID string) ([]TargetAccount, Batch, error) {
	b, err := s.reads().OwnBatch(ctx, src, migrationID, batchID)
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
func (s *DeveloperActions) SelectTarget(ctx context.Context, src AccountRef, migrationID, batchID string, t Target) (Batch, error) {
	b, err := s.drivenBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	// The developer's choice replaces whatever target the batch has, ops' included.
	return s.selectTarget(ctx, b, t, nil)
}

// selectTarget writes t as the batch's target; with replaces, only while the
// batch's target account is still *replaces ("" for none).
func (s *DeveloperActions) selectTarget(ctx context.Context, b Batch, t Target, replaces *string) (Batch, error) {
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
	tr.ReplacesTarget = replaces
	return s.advance(ctx, b, StepTarget, tr)
}

// targetTransition checks that t may receive b's assets and is the
// transition's target part.
func (s *DeveloperActions) targetTransition(ctx context.Context, b Batch, t Target) (Transition, error) {
	if err := t.Validate(); err != nil {
		return Transition{}, err
	}
	if t.Mode == TargetModeExisting {
		acct, err := s.Store.TargetAccount(ctx, b.TargetPlatform, t.AccountID)
		if IsCode(err, CodeNotFound) || (err == nil && acct.Login != b.Login) {
			return Transition{}, notYourTarget(b.TargetPlatform)
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

// notYourTarget is the one answer for an account id that does not exist and
// one of another login: the same code and the same words, naming neither the
// id nor anything of the account, so the answer tells nobody whether an id
// exists or how another login's account stands.
func notYourTarget(p TargetPlatform) error {
	return Errorf(CodeTargetNotEligible, "that account is not one of your accounts on %s", p)
}
