package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/idempotency"
	"github.com/devplatform/account-migration/shared/migration"
)

// Idempotency keeps the HTTP API's idempotency keys: each claimed by one
// request with a conditional put, then answered or released by it.
type Idempotency struct{ *base }

var _ idempotency.Store = (*Idempotency)(nil)

func idempotencyPK(scope, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "IDEMPOTENCY#" + scope + "#" + hex.EncodeToString(sum[:])
}

// IdempotentResponse returns the record of (scope, key), if any. A record past
// its TTL counts as absent: DynamoDB deletes expired items only eventually.
func (s *Idempotency) IdempotentResponse(ctx context.Context, scope, key string) (idempotency.Record, bool, error) {
	var rec idempotency.Record
	err := s.get(ctx, idempotencyPK(scope, key), metaSK, &rec, "idempotency record")
	if migration.IsCode(err, migration.CodeNotFound) || (err == nil && rec.ExpiresAt > 0 && rec.ExpiresAt <= time.Now().Unix()) {
		return idempotency.Record{}, false, nil
	}
	return rec, err == nil, err
}

// ClaimIdempotencyKey claims (scope, key) for one request with a conditional
// put, before the request runs. It succeeds for a key never used (or past its
// TTL), and for the same request when the claim before it was released or
// its lease ran out (that request crashed). Otherwise it returns the record as
// it stands: the answer, or the claim of the request still running.
func (s *Idempotency) ClaimIdempotencyKey(ctx context.Context, scope, key string, c idempotency.Claim) (idempotency.Record, bool, error) {
	now := time.Now()
	rec := idempotency.Record{RequestHash: c.RequestHash, Owner: c.Owner,
		LeaseUntil: now.Add(c.Lease).UnixMilli(), ExpiresAt: now.Add(c.TTL).Unix()}
	av, err := record(rec, map[string]string{attrPK: idempotencyPK(scope, key), attrSK: metaSK})
	if err != nil {
		return rec, false, err
	}
	expiresAt, lease := expression.Name("expiresAt"), expression.Name("leaseUntil")
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expiresAt.LessThanEqual(expression.Value(now.Unix()))).
		Or(expression.Name("requestHash").Equal(expression.Value(c.RequestHash)).
			And(expression.AttributeNotExists(expression.Name("status"))).
			And(lease.LessThan(expression.Value(now.UnixMilli()))))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return rec, false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var cur idempotency.Record
		if ccf.Item != nil && attributevalue.UnmarshalMap(ccf.Item, &cur) == nil && cur.RequestHash != "" {
			return cur, false, nil
		}
		cur, found, err := s.IdempotentResponse(ctx, scope, key)
		if err == nil && !found {
			return s.ClaimIdempotencyKey(ctx, scope, key, c) // deleted in between: claim it now
		}
		return cur, false, err
	}
	if err != nil {
		return rec, false, storeErr(err)
	}
	return rec, true, nil
}

// FinishIdempotencyKey stores the answer of the request that holds the claim;
// it keeps the claim's TTL. It fails when the claim is no longer owner's.
func (s *Idempotency) FinishIdempotencyKey(ctx context.Context, scope, key, owner string, rec idempotency.Record) error {
	upd := expression.Set(expression.Name("status"), expression.Value(rec.Status)).
		Set(expression.Name("body"), expression.Value(rec.Body)).
		Remove(expression.Name("owner")).Remove(expression.Name("leaseUntil"))
	return s.updateClaim(ctx, scope, key, owner, &upd)
}

// ReleaseIdempotencyKey ends owner's claim without an answer: the record
// keeps the request's hash with its lease ended, so only the same request may
// run again at once and another one stays IDEMPOTENCY_KEY_REUSED.
func (s *Idempotency) ReleaseIdempotencyKey(ctx context.Context, scope, idemKey, owner string) error {
	upd := expression.Set(expression.Name("leaseUntil"), expression.Value(0)).Remove(expression.Name("owner"))
	return s.updateClaim(ctx, scope, idemKey, owner, &upd)
}

func (s *Idempotency) updateClaim(ctx context.Context, scope, idemKey, owner string, upd *expression.UpdateBuilder) error {
	expr, err := expression.NewBuilder().WithUpdate(*upd).
		WithCondition(expression.Name("owner").Equal(expression.Value(owner))).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(idempotencyPK(scope, idemKey), metaSK),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	return claimErr(err)
}

func claimErr(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return migration.Errorf(migration.CodeConflict, "the idempotency claim was taken over")
	}
	return storeErr(err)
}
