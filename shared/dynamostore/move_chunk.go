package dynamostore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// MoveChunk moves up to max of the batch's remaining items to its target:
// one query finds them, then transactions of at most 99 items each move them,
// each with the batch's progress counter (<= 100 actions, DynamoDB's limit),
// so the counter never disagrees with what moved. max <= 99 is one
// transaction; more amortises the query over several (BENCHMARKS.md: in moto
// a query of 99 items costs a third of a transaction; in DynamoDB it is a
// round trip). A page may come back shorter than max (1 MB read): the next
// call carries on.
//
// Each move applies only while the source still holds the item, so an item
// moves once whatever retries, crashes or concurrent movers do. The index
// (GSI) may lag and still list an item this batch already moved; such items
// are recognised by movedBy and dropped, and the rest is tried again. An item
// held by anyone else is an ASSET_CONFLICT: nothing more moves.
func (s *Store) MoveChunk(ctx context.Context, b migration.Batch, max int, now time.Time) (int, bool, error) {
	if max <= 0 {
		max = maxTransactItems - 1
	}
	// The query reads each item's key alone: the moves need nothing else,
	// and a lighter page is cheaper to read (and, in moto, to build).
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(holdPK(b.SourceHolder()))).
		And(expression.Key(attrGSI1SK).BeginsWith(batchPrefix(b.BatchKey)))
	qexpr, err := expression.NewBuilder().WithKeyCondition(kc).WithProjection(expression.NamesList(expression.Name(attrPK))).Build()
	if err != nil {
		return 0, false, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexHeld),
		KeyConditionExpression: qexpr.KeyCondition(), ProjectionExpression: qexpr.Projection(),
		ExpressionAttributeNames: qexpr.Names(), ExpressionAttributeValues: qexpr.Values(), Limit: aws.Int32(int32(max))})
	if err != nil {
		return 0, false, storeErr(err)
	}
	keys := make([]string, 0, len(res.Items))
	for _, row := range res.Items {
		pk, ok := row[attrPK].(*types.AttributeValueMemberS)
		if !ok {
			return 0, false, migration.Errorf(migration.CodeInternal, "a record of %s has no key", holdPK(b.SourceHolder()))
		}
		keys = append(keys, pk.Value)
	}
	last := len(res.LastEvaluatedKey) == 0 && len(keys) < max

	// Every item of the call gets the same change under the same condition.
	src, dst := b.SourceHolder(), b.TargetHolder()
	upd := expression.Set(expression.Name("holder"), expression.Value(dst)).
		Set(expression.Name(attrGSI1PK), expression.Value(holdPK(dst))).
		Set(expression.Name("movedBy"), expression.Value(b.BatchID)).
		Set(expression.Name("movedAt"), expression.Value(now.UTC().Format(time.RFC3339Nano)))
	move, err := expression.NewBuilder().WithUpdate(upd).WithCondition(expression.Name("holder").Equal(expression.Value(src))).Build()
	if err != nil {
		return 0, false, err
	}
	per := min(max, maxTransactItems-1)
	moved := 0
	for start := 0; start < len(keys); start += per {
		if err := ctx.Err(); err != nil {
			return moved, false, err
		}
		n, committed, err := s.moveItems(ctx, b, keys[start:min(start+per, len(keys))], move)
		moved += n
		if err != nil || committed {
			return moved, committed, err
		}
	}
	// An empty page, or one whose items had all moved already: the next call
	// looks again.
	return moved, last, nil
}

// moveItems is one of MoveChunk's transactions: the items with these keys
// (<= 99) and the progress counter. committed reports a batch that another
// mover finished.
func (s *Store) moveItems(ctx context.Context, b migration.Batch, keys []string, move expression.Expression) (moved int, committed bool, err error) {
	dst := b.TargetHolder()
	for len(keys) > 0 {
		writes := make([]types.TransactWriteItem, 0, len(keys)+1)
		for _, pk := range keys {
			writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, metaSK),
				UpdateExpression: move.Update(), ConditionExpression: move.Condition(), ExpressionAttributeNames: move.Names(),
				ExpressionAttributeValues: move.Values(), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
		}
		pexpr, err := expression.NewBuilder().WithUpdate(expression.Add(expression.Name("moved"), expression.Value(len(keys)))).
			WithCondition(expression.Name("state").Equal(expression.Value(migration.Committing))).Build()
		if err != nil {
			return 0, false, err
		}
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
			UpdateExpression: pexpr.Update(), ConditionExpression: pexpr.Condition(), ExpressionAttributeNames: pexpr.Names(),
			ExpressionAttributeValues: pexpr.Values()}})

		err = s.transact(ctx, writes)
		if err == nil {
			return len(keys), false, nil
		}
		failed := conditionFailures(err)
		if len(failed) == 0 {
			return 0, false, cancelled(err, "moving a chunk")
		}
		if failed[len(keys)] {
			cur, rerr := s.Batch(ctx, b.MigrationID, b.BatchID)
			if rerr != nil {
				return 0, false, rerr
			}
			if cur.State == migration.Committed {
				return 0, true, nil
			}
			return 0, false, migration.Errorf(migration.CodeWrongStep, "batch is %s, not COMMITTING", cur.State)
		}
		// The cancellation carries each failed item as it was (ALL_OLD); read
		// it again only when it does not.
		var old []types.CancellationReason
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			old = tce.CancellationReasons
		}
		keep := keys[:0:0]
		for i, pk := range keys {
			if !failed[i] {
				keep = append(keep, pk)
				continue
			}
			name := strings.TrimPrefix(pk, "ITEM#") // <type>#<id>, as Item.Key
			var cur migration.Item
			if i < len(old) && old[i].Item != nil {
				if uerr := attributevalue.UnmarshalMap(old[i].Item, &cur); uerr != nil {
					return 0, false, uerr
				}
			} else if gerr := s.get(ctx, pk, metaSK, &cur, "item "+name); gerr != nil {
				return 0, false, gerr
			}
			if cur.Holder == dst && cur.MovedBy == b.BatchID {
				continue // moved by this batch already; the index had not caught up
			}
			return 0, false, &migration.Error{Code: migration.CodeAssetConflict,
				Message: "item " + name + " is held by " + cur.Holder + ", not by the batch's source", Err: err}
		}
		keys = keep
	}
	return 0, false, nil
}
