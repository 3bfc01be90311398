package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/devplatform/account-migration/shared/migration"
)

// The developer's record: their migrations, newest first, and the receipt
// hash of each committed batch.

// MigrationsOf pages through the account's migrations, newest first (the
// gsi2 index sorts them by creation time).
func (s *Store) MigrationsOf(ctx context.Context, src migration.AccountRef, cursor string, limit int) ([]migration.Migration, string, error) {
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

// RecordReceipt stores sha on the committed batch with its audit event, in
// one transaction. The condition (COMMITTED, and another or no hash recorded)
// makes a second call with the same hash write nothing.
func (s *Store) RecordReceipt(ctx context.Context, b migration.Batch, sha string, ev migration.AuditEvent) error {
	cond := expression.Name("state").Equal(expression.Value(migration.Committed)).
		And(expression.Or(expression.AttributeNotExists(expression.Name("receiptSha256")),
			expression.Name("receiptSha256").NotEqual(expression.Value(sha))))
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("receiptSha256"), expression.Value(sha))).
		WithCondition(cond).Build()
	if err != nil {
		return err
	}
	audit, err := s.auditPut(ev, auditSeq(ev)+"#"+sha[:16])
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, audit})
	if isAllConditionFailed(err) {
		return nil // this hash is recorded already (a concurrent or earlier call)
	}
	return err
}
