package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/devplatform/account-migration/shared/migration"
)

// MovedItems pages through what holder holds under batchKey that batch
// batchID moved there (MoveChunk stamps movedBy). A target account may hold
// items of one batch key from several migrations (two source accounts of one
// subject); the filter keeps this batch's own. A filtered page may come back
// shorter than limit, even empty, with a cursor for the rest.
func (s *Store) MovedItems(ctx context.Context, holder, batchKey, batchID, cursor string, limit int) ([]migration.Item, string, error) {
	pk := holdPK(holder)
	start, err := decodeCursor(cursor, indexHeld, attrGSI1PK, pk, attrGSI1SK, batchPrefix(batchKey))
	if err != nil {
		return nil, "", err
	}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(pk)).And(expression.Key(attrGSI1SK).BeginsWith(batchPrefix(batchKey)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).
		WithFilter(expression.Name("movedBy").Equal(expression.Value(batchID))).Build()
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexHeld),
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ExclusiveStartKey: start, Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, "", storeErr(err)
	}
	items := make([]migration.Item, 0, len(res.Items))
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, "", err
	}
	return items, encodeCursor(res.LastEvaluatedKey), nil
}
