package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/httpapi"
	"github.com/devplatform/account-migration/shared/migration"
)

var _ httpapi.Idempotency = (*Store)(nil)

func idempotencyPK(scope, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "IDEMPOTENCY#" + scope + "#" + hex.EncodeToString(sum[:])
}

// IdempotentResponse returns the stored answer for (scope, key), if any.
func (s *Store) IdempotentResponse(ctx context.Context, scope, key string) (httpapi.IdempotentRecord, bool, error) {
	var rec httpapi.IdempotentRecord
	err := s.get(ctx, idempotencyPK(scope, key), metaSK, &rec, "idempotency record")
	if migration.IsCode(err, migration.CodeNotFound) {
		return rec, false, nil
	}
	return rec, err == nil, err
}

// SaveIdempotentResponse stores the first answer for (scope, key); when a
// concurrent request stored one first, that one is returned instead. Records
// expire through the table's TTL.
func (s *Store) SaveIdempotentResponse(ctx context.Context, scope, key string, rec httpapi.IdempotentRecord, ttl time.Duration) (httpapi.IdempotentRecord, error) {
	av, err := record(rec, map[string]string{attrPK: idempotencyPK(scope, key), attrSK: metaSK})
	if err != nil {
		return rec, err
	}
	av["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)}
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return rec, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var first httpapi.IdempotentRecord
		if ccf.Item != nil && attributevalue.UnmarshalMap(ccf.Item, &first) == nil && first.RequestHash != "" {
			return first, nil
		}
		first, _, err := s.IdempotentResponse(ctx, scope, key)
		return first, err
	}
	return rec, storeErr(err)
}

// LatestMigration returns the account's most recent migration.
func (s *Store) LatestMigration(ctx context.Context, src migration.AccountRef) (migration.Migration, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrGSI2PK).Equal(expression.Value(migrationsPK(src)))).Build()
	if err != nil {
		return migration.Migration{}, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexGSI2), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(1)})
	if err != nil {
		return migration.Migration{}, storeErr(err)
	}
	if len(out.Items) == 0 {
		return migration.Migration{}, migration.Errorf(migration.CodeNotFound, "account %s has no migration", src)
	}
	var m migration.Migration
	return m, attributevalue.UnmarshalMap(out.Items[0], &m)
}
