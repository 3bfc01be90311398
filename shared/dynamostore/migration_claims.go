package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// An account's claim (ACTIVE#<account>) names its one active migration: taken
// when the migration is created, freed when it ends or by ops' repair of a
// dead claim (ReleaseClaim). The claim's writes are MigrationRecords'.

var _ migration.ClaimReleaser = (*MigrationRecords)(nil)

// ReleaseClaim deletes the account's claim while claimID holds it, with ev in
// the same transaction: a claim that moved on (released already, or another
// migration's now) is left alone and nothing is written.
func (s *MigrationRecords) ReleaseClaim(ctx context.Context, src migration.AccountRef, claimID string, ev migration.AuditEvent) (bool, error) {
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

// claimPut makes migrationID the account's one active migration, unless
// another holds it: a put that passes only on no claim or its own.
func (s *MigrationRecords) claimPut(src migration.AccountRef, migrationID string) (types.TransactWriteItem, error) {
	cond := expression.AttributeNotExists(expression.Name(attrPK)).Or(expression.Name("migrationId").Equal(expression.Value(migrationID)))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	item, err := record(activeClaim{migrationID}, map[string]string{attrPK: activePK(src), attrSK: metaSK})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}, nil
}

type activeClaim struct {
	MigrationID string `dynamodbav:"migrationId"`
}

// ClaimActive makes migrationID the account's one active migration, unless
// another holds it; it returns whichever id is active. CreateMigration claims
// in its own transaction; this stands alone for tools and tests.
func (s *MigrationRecords) ClaimActive(ctx context.Context, src migration.AccountRef, migrationID string) (string, error) {
	claim, err := s.claimPut(src, migrationID)
	if err != nil {
		return "", err
	}
	err = s.transact(ctx, []types.TransactWriteItem{claim})
	if conditionFailures(err)[0] {
		return s.activeHolder(ctx, src, err, 0)
	}
	return migrationID, cancelled(err, "claiming the account")
}

// activeHolder names the migration whose claim failed the action at index i
// of a cancelled transaction: from the reason's old item, else by reading it.
func (s *MigrationRecords) activeHolder(ctx context.Context, src migration.AccountRef, err error, i int) (string, error) {
	var cur activeClaim
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && i < len(tce.CancellationReasons) && tce.CancellationReasons[i].Item != nil {
		if uerr := attributevalue.UnmarshalMap(tce.CancellationReasons[i].Item, &cur); uerr == nil && cur.MigrationID != "" {
			return cur.MigrationID, nil
		}
	}
	if err := s.get(ctx, activePK(src), metaSK, &cur, "active migration"); err != nil {
		return "", err
	}
	return cur.MigrationID, nil
}

// ReleaseActive frees the account's claim if migrationID still holds it.
func (s *MigrationRecords) ReleaseActive(ctx context.Context, src migration.AccountRef, migrationID string) error {
	release, err := s.releaseDelete(src, migrationID)
	if err != nil {
		return err
	}
	d := release.Delete
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: d.TableName, Key: d.Key, ConditionExpression: d.ConditionExpression,
		ExpressionAttributeNames: d.ExpressionAttributeNames, ExpressionAttributeValues: d.ExpressionAttributeValues})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // released already, or another migration holds it now
	}
	return storeErr(err)
}

// releaseDelete deletes the account's claim only while migrationID holds it:
// alone (ReleaseActive) or inside the transaction that ends the migration.
func (s *MigrationRecords) releaseDelete(src migration.AccountRef, migrationID string) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("migrationId").Equal(expression.Value(migrationID))).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(activePK(src), metaSK),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, nil
}
