package migration

import (
	"context"
	"time"
)

// EventClaimReleased records ops freeing an account's one-active-migration
// claim that no migration was ever written for.
const EventClaimReleased = "CLAIM_RELEASED"

// ClaimReleaser is the store's part in releasing a dead claim: the claim is
// deleted only while claimID still holds it, with its audit event in the
// same write; released is false (and nothing written) when it no longer does.
type ClaimReleaser interface {
	ReleaseClaim(ctx context.Context, src AccountRef, claimID string, ev AuditEvent) (released bool, err error)
}

// ReleaseDeadClaim is ops' repair of an account turned away for good: its
// claim names a migration that was never written (the execution that claimed
// it failed between the claim and the migration's last write, and its own
// clean-up failed too). It is a use case of its own, with only the two store
// roles it needs, so that ops tools change the table through the domain and
// leave an audit event, as every other change does.
type ReleaseDeadClaim struct {
	Store interface {
		Migration(ctx context.Context, migrationID string) (Migration, error)
		ClaimReleaser
	}
	Now func() time.Time // nil: time.Now
}

// Handle releases src's claim held by claimID when no migration claimID
// exists. The caller proves the rest (the claiming execution has ended, so it
// will never write the migration) and says so in why; actor is who asked.
// A claim whose migration exists is refused with CodeWrongStep: that one ends
// through its migration (Summarize), never here.
func (h ReleaseDeadClaim) Handle(ctx context.Context, src AccountRef, claimID, actor, why string) (bool, error) {
	if claimID == "" || actor == "" {
		return false, Errorf(CodeInvalidInput, "releasing a claim needs the claim's migration id and who asks")
	}
	if _, err := h.Store.Migration(ctx, claimID); err == nil {
		return false, Errorf(CodeWrongStep, "migration %s exists: its claim ends with it, not by hand", claimID)
	} else if !IsCode(err, CodeNotFound) {
		return false, err
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	ev := AuditEvent{At: Stamp(now()), Event: EventClaimReleased, Account: src.String(), MigrationID: claimID,
		Actor: actor, Detail: map[string]any{"reason": why}}
	return h.Store.ReleaseClaim(ctx, src, claimID, ev)
}
