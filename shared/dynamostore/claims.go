package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

var _ migration.ClaimReleaser = (*Store)(nil)

// ReleaseClaim deletes the account's claim while claimID holds it, with ev in
// the same transaction: a claim that moved on (released already, or another
// migration's now) is left alone and nothing is written.
func (s *Store) ReleaseClaim(ctx context.Context, src migration.AccountRef, claimID string, ev migration.AuditEvent) (bool, error) {
	release, err := s.releaseDelete(src, claimID)
	if err != nil {
		return false, err
	}
	audit, err := s.auditPut(ev, auditSeq(ev))
	if err != nil {
		return false, err
	}
	err = s.transact(ctx, []types.TransactWriteItem{release, audit})
	if conditionFailures(err)[0] {
		return false, nil
	}
	if err != nil {
		return false, cancelled(err, "releasing the claim")
	}
	return true, nil
}
