package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/devplatform/account-migration/shared/migration"
)

// Audit reads an account's append-only audit trail and reduces the personal
// data of its old records (audit_retention.go). Every role appends to the
// trail in its own write's transaction (auditPut, audit_seq.go).
type Audit struct{ *base }

var _ migration.AuditLog = (*Audit)(nil)

// AuditTrail pages through an account's audit events, oldest first.
func (s *Audit) AuditTrail(ctx context.Context, src migration.AccountRef, cursor string, limit int) ([]migration.AuditEvent, string, error) {
	trail := &base{db: s.db, table: s.audit, audit: s.audit}
	rows, next, err := trail.queryPage(ctx, "", attrPK, auditPK(src.String()), attrSK, "", cursor, limit, true)
	if err != nil {
		return nil, "", err
	}
	var evs []migration.AuditEvent
	if err := attributevalue.UnmarshalListOfMaps(rows, &evs); err != nil {
		return nil, "", err
	}
	return evs, next, nil
}
