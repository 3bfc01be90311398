package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/strictjson"
)

// Reads every role uses: a page of a query (its cursor kept to its own
// partition), a whole query, and consistent reads of many keys.

// A cursor is the query's LastEvaluatedKey (all string attributes here),
// base64url-encoded JSON. decodeCursor refuses a cursor for another partition,
// so a cursor can never open someone else's listing.
func encodeCursor(lek map[string]types.AttributeValue) string {
	if len(lek) == 0 {
		return ""
	}
	m := map[string]string{}
	for k, v := range lek {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			m[k] = sv.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c, index, partitionAttr, partition, sortAttr, sortPrefix string) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	bad := migration.Errorf(migration.CodeInvalidInput, "cursor is not valid")
	if len(c) > 2048 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var m map[string]string
	if err := strictjson.Decode(b, &m); err != nil || m[partitionAttr] != partition || !strings.HasPrefix(m[sortAttr], sortPrefix) {
		return nil, bad
	}
	// Exactly the keys a LastEvaluatedKey of this query has (the table's,
	// plus the index's): any other set is a start key DynamoDB refuses.
	want := map[string]bool{attrPK: true, attrSK: true}
	if index != "" {
		want[partitionAttr], want[sortAttr] = true, true
	}
	if len(m) != len(want) {
		return nil, bad
	}
	out := map[string]types.AttributeValue{}
	for k, v := range m {
		if !want[k] || v == "" {
			return nil, bad
		}
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}

// queryPage runs one page of a key-condition query on index (or the table).
func (s *base) queryPage(ctx context.Context, index, pkAttr, pk, skAttr, skPrefix, cursor string, limit int, consistent bool) ([]map[string]types.AttributeValue, string, error) {
	start, err := decodeCursor(cursor, index, pkAttr, pk, skAttr, skPrefix)
	if err != nil {
		return nil, "", err
	}
	kc := expression.Key(pkAttr).Equal(expression.Value(pk))
	if skPrefix != "" {
		kc = kc.And(expression.Key(skAttr).BeginsWith(skPrefix))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ExclusiveStartKey: start, Limit: aws.Int32(int32(limit))}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(consistent)
	}
	res, err := s.db.Query(ctx, in)
	var api smithy.APIError
	if err != nil && start != nil && errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		// A start key DynamoDB refuses came from the caller's cursor.
		return nil, "", &migration.Error{Code: migration.CodeInvalidInput, Message: "cursor is not valid", Err: err}
	}
	if err != nil {
		return nil, "", storeErr(err)
	}
	return res.Items, encodeCursor(res.LastEvaluatedKey), nil
}

// queryAll reads every page of a query on the table itself.
func (s *base) queryAll(ctx context.Context, pk, skPrefix string) ([]map[string]types.AttributeValue, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(pk))
	if skPrefix != "" {
		kc = kc.And(expression.Key(attrSK).BeginsWith(skPrefix))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true)})
	var all []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, storeErr(err)
		}
		all = append(all, page.Items...)
	}
	return all, nil
}

// batchGet reads up to 100 records consistently, asking again for what
// DynamoDB leaves unprocessed, with a growing pause.
func (s *base) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, attrs ...string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	ka := types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}
	if len(attrs) > 0 {
		names := make([]expression.NameBuilder, len(attrs))
		for i, a := range attrs {
			names[i] = expression.Name(a)
		}
		proj, err := expression.NewBuilder().WithProjection(expression.NamesList(names[0], names[1:]...)).Build()
		if err != nil {
			return nil, err
		}
		ka.ProjectionExpression, ka.ExpressionAttributeNames = proj.Projection(), proj.Names()
	}
	pending := keys
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 8 {
			return nil, migration.Errorf(migration.CodeUnavailable, "%d reads left unprocessed; try again", len(pending))
		}
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
			}
		}
		ka.Keys = pending
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: ka}})
		if err != nil {
			return nil, storeErr(err)
		}
		out = append(out, res.Responses[s.table]...)
		pending = res.UnprocessedKeys[s.table].Keys
	}
	return out, nil
}

// batchGetLimit is BatchGetItem's limit of keys per call.
const batchGetLimit = 100

// readKeys reads keys consistently, 100 a call, in no particular order;
// only the attributes named, when any are.
func (s *base) readKeys(ctx context.Context, keys []map[string]types.AttributeValue, attrs ...string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	seen := map[string]bool{}
	var batch []map[string]types.AttributeValue
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rows, err := s.batchGet(ctx, batch, attrs...)
		out = append(out, rows...)
		batch = batch[:0]
		return err
	}
	for _, k := range keys {
		id := stringAttr(k, attrPK) + "\x00" + stringAttr(k, attrSK)
		if seen[id] {
			continue
		}
		seen[id] = true
		batch = append(batch, k)
		if len(batch) == batchGetLimit {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	return out, flush()
}
