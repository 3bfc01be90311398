package dynamostore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/importer"
)

// ImportLease is the import lock for the import workflow (importer.Lease):
// the same row as Lock's, held by an execution's name across invocations.
func (s *SnapshotImport) ImportLease() importer.Lease { return importTable{s} }

func (t importTable) Take(ctx context.Context, owner string) (string, time.Time, error) {
	return t.s.tryImportLock(ctx, owner)
}

// Keep renews the lease only while the row names owner: a lapsed lease that
// nobody took is still owner's (nothing was written meanwhile), a row gone
// or naming another means another import ran.
func (t importTable) Keep(ctx context.Context, owner string) error {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("owner").Equal(expression.Value(owner))).Build()
	if err != nil {
		return err
	}
	item := key(importLockPK, metaSK)
	item["owner"] = &types.AttributeValueMemberS{Value: owner}
	item["leaseUntil"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(ImportLease).Unix(), 10)}
	_, err = t.s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.s.table, Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return importer.ErrLockLost
	}
	return storeErr(err)
}

func (t importTable) Release(ctx context.Context, owner string) error {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("owner").Equal(expression.Value(owner))).Build()
	if err != nil {
		return err
	}
	_, err = t.s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &t.s.table, Key: key(importLockPK, metaSK),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return storeErr(err)
}
