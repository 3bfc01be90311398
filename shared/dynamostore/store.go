package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// Store is the DynamoDB adapter of migration.Store.
type Store struct {
	*base
}

var _ migration.Store = (*Store)(nil)

// New returns a store on table, with the audit trail in the same table until
// WithAuditTable names its own (as the deployed functions do).
func New(client API, table string) *Store {
	return &Store{&base{db: client, table: table, audit: table}}
}

// WithAuditTable puts the audit trail in a table of its own, where the
// functions may only add records (template.yaml's AuditTable); "" keeps it.
func (s *Store) WithAuditTable(name string) *Store {
	b := *s.base
	if name != "" {
		b.audit = name
	}
	return &Store{&b}
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// AuditTable is the audit trail's table.
func (s *Store) AuditTable() string { return s.audit }

// ---- Reads ----------------------------------------------------------------------------

// SourceAccount reads an old-platform account.
func (s *Store) SourceAccount(ctx context.Context, ref migration.AccountRef) (migration.Account, error) {
	var a migration.Account
	err := s.get(ctx, accountPK(ref), metaSK, &a, fmt.Sprintf("account %s", ref))
	return a, err
}

// Subject reads a subject.
func (s *Store) Subject(ctx context.Context, id string) (migration.Subject, error) {
	var sub migration.Subject
	err := s.get(ctx, subjectPK(id), metaSK, &sub, "subject "+id)
	return sub, err
}

// HeldItems pages through what holder holds, optionally one batch only.
func (s *Store) HeldItems(ctx context.Context, holder, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	return s.itemsPage(ctx, indexHeld, attrGSI1PK, holdPK(holder), attrGSI1SK, batchKey, cursor, limit)
}

// Followers pages through the relations on holder's apps.
func (s *Store) Followers(ctx context.Context, holder, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	return s.itemsPage(ctx, indexGSI2, attrGSI2PK, followPK(holder), attrGSI2SK, batchKey, cursor, limit)
}

// itemsPage is one page of items from an index, optionally one batch only.
func (s *Store) itemsPage(ctx context.Context, index, pkAttr, pk, skAttr, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	rows, next, err := s.queryPage(ctx, index, pkAttr, pk, skAttr, batchPrefix(batchKey), cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	items := make([]migration.Item, 0, len(rows))
	if err := attributevalue.UnmarshalListOfMaps(rows, &items); err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// Item reads one item consistently.
func (s *Store) Item(ctx context.Context, t migration.ItemType, id string) (migration.Item, error) {
	var it migration.Item
	err := s.get(ctx, itemPK(t, id), metaSK, &it, fmt.Sprintf("%s %s", t, id))
	return it, err
}

// TargetAccount reads a new-platform account.
func (s *Store) TargetAccount(ctx context.Context, p migration.TargetPlatform, id string) (migration.TargetAccount, error) {
	var t migration.TargetAccount
	err := s.get(ctx, targetPK(p, id), metaSK, &t, fmt.Sprintf("account %s on %s", id, p))
	return t, err
}

// TargetCandidates lists the accounts registered on p with login.
func (s *Store) TargetCandidates(ctx context.Context, p migration.TargetPlatform, login string) ([]migration.TargetAccount, error) {
	var out []migration.TargetAccount
	cursor := ""
	for {
		rows, next, err := s.queryPage(ctx, indexGSI2, attrGSI2PK, loginPK(p, login), attrGSI2SK, "", cursor, 100, false)
		if err != nil {
			return nil, err
		}
		var page []migration.TargetAccount
		if err := attributevalue.UnmarshalListOfMaps(rows, &page); err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// Migration reads a migration.
func (s *Store) Migration(ctx context.Context, id string) (migration.Migration, error) {
	var m migration.Migration
	err := s.get(ctx, migrationPK(id), metaSK, &m, "migration "+id)
	return m, err
}

// batchRecord is a batch as stored: the parked task tokens sit beside it.
type batchRecord struct {
	migration.Batch
	AgreementToken    string `dynamodbav:"agreementToken,omitempty"`
	TargetToken       string `dynamodbav:"targetToken,omitempty"`
	ConfirmationToken string `dynamodbav:"confirmationToken,omitempty"`
}

var tokenAttr = map[migration.Step]string{
	migration.StepAgreement:    "agreementToken",
	migration.StepTarget:       "targetToken",
	migration.StepConfirmation: "confirmationToken",
}

func unmarshalBatch(av map[string]types.AttributeValue) (migration.Batch, error) {
	var r batchRecord
	if err := attributevalue.UnmarshalMap(av, &r); err != nil {
		return migration.Batch{}, err
	}
	b := r.Batch
	b.Tokens = map[migration.Step]string{}
	for step, tok := range map[migration.Step]string{migration.StepAgreement: r.AgreementToken, migration.StepTarget: r.TargetToken, migration.StepConfirmation: r.ConfirmationToken} {
		if tok != "" {
			b.Tokens[step] = tok
		}
	}
	return b, nil
}

// Batch reads one batch.
func (s *Store) Batch(ctx context.Context, migrationID, batchID string) (migration.Batch, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(migrationPK(migrationID), batchSK(batchID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return migration.Batch{}, storeErr(err)
	}
	if res.Item == nil {
		return migration.Batch{}, migration.Errorf(migration.CodeNotFound, "no batch %s in migration %s", batchID, migrationID)
	}
	return unmarshalBatch(res.Item)
}

// Batches reads all batches of a migration, in batch-key order.
func (s *Store) Batches(ctx context.Context, migrationID string) ([]migration.Batch, error) {
	rows, err := s.queryAll(ctx, migrationPK(migrationID), "BATCH#")
	if err != nil {
		return nil, err
	}
	out := make([]migration.Batch, 0, len(rows))
	for _, row := range rows {
		b, err := unmarshalBatch(row)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	sortBatches(out)
	return out, nil
}

// HasViewed reports whether the account viewed that agreement.
func (s *Store) HasViewed(ctx context.Context, src migration.AccountRef, version, sha string) (bool, error) {
	var v struct{}
	err := s.get(ctx, viewPK(src), version+"#"+sha, &v, "view")
	if migration.IsCode(err, migration.CodeNotFound) {
		return false, nil
	}
	return err == nil, err
}

// AuditTrail pages through an account's audit events, oldest first.
func (s *Store) AuditTrail(ctx context.Context, src migration.AccountRef, cursor string, limit int) ([]migration.AuditEvent, string, error) {
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
