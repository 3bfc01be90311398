package dynamostore

import (
	"context"
	"errors"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/devplatform/account-migration/shared/migration"
)

// MigrationRecords keeps migrations and their batches: created with the
// account's claim (migration_claims.go), read, listed for the developer,
// attached to their execution and ended with the claim freed.
type MigrationRecords struct{ *base }

var _ migration.Migrations = (*MigrationRecords)(nil)

// Migration reads a migration.
func (s *MigrationRecords) Migration(ctx context.Context, id string) (migration.Migration, error) {
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
func (s *MigrationRecords) Batch(ctx context.Context, migrationID, batchID string) (migration.Batch, error) {
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
func (s *MigrationRecords) Batches(ctx context.Context, migrationID string) ([]migration.Batch, error) {
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

// MigrationsOf pages through the account's migrations, newest first (the
// gsi2 index sorts them by creation time).
func (s *MigrationRecords) MigrationsOf(ctx context.Context, src migration.AccountRef, cursor string, limit int) ([]migration.Migration, string, error) {
	pk := migrationsPK(src)
	start, err := decodeCursor(cursor, indexGSI2, attrGSI2PK, pk, attrGSI2SK, "")
	if err != nil {
		return nil, "", err
	}
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrGSI2PK).Equal(expression.Value(pk))).Build()
	if err != nil {
		return nil, "", err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexGSI2),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ExclusiveStartKey: start, Limit: aws.Int32(int32(limit)), ScanIndexForward: aws.Bool(false)})
	var api smithy.APIError
	if err != nil && start != nil && errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		return nil, "", &migration.Error{Code: migration.CodeInvalidInput, Message: "cursor is not valid", Err: err}
	}
	if err != nil {
		return nil, "", storeErr(err)
	}
	out := make([]migration.Migration, 0, len(res.Items))
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &out); err != nil {
		return nil, "", err
	}
	return out, encodeCursor(res.LastEvaluatedKey), nil
}

// CreateMigration claims the account and writes the migration, its batches
// and the audit event. The claim rides in the first transaction, so a
// migration that loses it writes nothing and the answer names the holder.
// Each other write is conditioned on not existing, so a retried step changes
// nothing.
func (s *MigrationRecords) CreateMigration(ctx context.Context, m migration.Migration, batches []migration.Batch, ev migration.AuditEvent) (string, error) {
	notExists, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return "", err
	}
	put := func(av map[string]types.AttributeValue) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av, ConditionExpression: notExists.Condition(),
			ExpressionAttributeNames: notExists.Names()}}
	}
	claim, err := s.claimPut(m.Source, m.MigrationID)
	if err != nil {
		return "", err
	}
	writes := []types.TransactWriteItem{claim}
	for _, b := range batches {
		av, err := record(batchRecord{Batch: b}, map[string]string{attrPK: migrationPK(m.MigrationID), attrSK: batchSK(b.BatchID),
			attrGSI2PK: batchStatePK(b.State), attrGSI2SK: migration.SortableTime(b.UpdatedAt) + "#" + b.MigrationID + "#" + b.BatchID})
		if err != nil {
			return "", err
		}
		writes = append(writes, put(av))
	}
	mav, err := record(m, map[string]string{attrPK: migrationPK(m.MigrationID), attrSK: metaSK,
		attrGSI2PK: migrationsPK(m.Source), attrGSI2SK: migration.SortableTime(m.CreatedAt)})
	if err != nil {
		return "", err
	}
	audit, err := s.auditPut(ev, auditSeq(ev))
	if err != nil {
		return "", err
	}
	// The claim and batches first, in chunks; the migration record last, so
	// a migration that exists always has all its batches.
	claimed := false
	for _, chunk := range createChunks(writes, put(mav), audit) {
		err := s.transact(ctx, chunk)
		if !claimed && conditionFailures(err)[0] {
			return s.activeHolder(ctx, m.Source, err, 0)
		}
		if err != nil && !isAllConditionFailed(err) {
			return "", cancelled(err, "creating the migration")
		}
		claimed = true
	}
	return m.MigrationID, nil
}

// createChunks cuts the claim and batch writes into transactions, keeping
// the migration record and its audit event together in the last one.
func createChunks(writes []types.TransactWriteItem, last ...types.TransactWriteItem) [][]types.TransactWriteItem {
	var chunks [][]types.TransactWriteItem
	for len(writes)+len(last) > maxTransactItems {
		n := min(len(writes), maxTransactItems)
		chunks = append(chunks, writes[:n])
		writes = writes[n:]
	}
	return append(chunks, append(writes, last...))
}

// SetExecutionArn records the execution that drives the migration.
func (s *MigrationRecords) SetExecutionArn(ctx context.Context, migrationID, arn string) error {
	return s.update(ctx, migrationPK(migrationID), metaSK, expression.Set(expression.Name("executionArn"), expression.Value(arn)),
		expression.AttributeExists(expression.Name(attrPK)))
}

// EndMigration records that the migration ended, with its audit event, and
// frees the account's claim in the same transaction. A claim another
// migration holds by now (freed early by a new start) is left to it.
func (s *MigrationRecords) EndMigration(ctx context.Context, src migration.AccountRef, migrationID string, ev migration.AuditEvent) error {
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("summarized"), expression.Value(true))).
		WithCondition(expression.AttributeExists(expression.Name(attrPK)).And(expression.AttributeNotExists(expression.Name("summarized")))).Build()
	if err != nil {
		return err
	}
	audit, err := s.auditPut(ev, auditSeq(ev))
	if err != nil {
		return err
	}
	release, err := s.releaseDelete(src, migrationID)
	if err != nil {
		return err
	}
	mark := types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(migrationID), metaSK),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()}}
	err = s.transact(ctx, []types.TransactWriteItem{mark, audit, release})
	if failed := conditionFailures(err); failed[2] && !failed[0] {
		// Only the claim had moved on: end the migration without it.
		err = s.transact(ctx, []types.TransactWriteItem{mark, audit})
	}
	if err != nil && isAllConditionFailed(err) {
		return nil // ended already
	}
	return cancelled(err, "ending the migration")
}

func sortBatches(bs []migration.Batch) {
	sort.Slice(bs, func(i, j int) bool { return bs[i].BatchKey < bs[j].BatchKey })
}
