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

// transactionsPerMoveCall full-size transactions share one MoveChunk query.
const transactionsPerMoveCall = 30

// MoveChunk moves some of the batch's remaining items to its target: one
// query finds them, then transactions of at most 99 items each (fewer when
// c.PerWrite says so) move them, each with the batch's progress counter
// (<= 100 actions, DynamoDB's limit), so the counter never disagrees with
// what moved. Full-size transactions go thirty to a call (~3,000 items, one
// query page within DynamoDB's 1 MB read), which amortises the query over
// them (BENCHMARKS.md: in moto a query of 99 items costs a third of a
// transaction; in DynamoDB it is a round trip); smaller ones, and a call
// marked c.Short, make one transaction. A page may come back shorter (1 MB
// read): the next call carries on.
//
// Each move applies only while the source still holds the item, so an item
// moves once whatever retries, crashes or concurrent movers do. The index
// (GSI) may lag and still list an item this batch already moved; such items
// are recognised by movedBy and dropped, and the rest is tried again. An item
// held by anyone else is an ASSET_CONFLICT: nothing more moves.
//
// The transaction that empties the batch carries c.Closing (the batch's
// COMMITTED state and audit event) in place of the counter, when it has room
// (98 items or fewer), so finishing a batch costs no write of its own.
func (s *Commits) MoveChunk(ctx context.Context, c migration.Chunk) (migration.ChunkResult, error) {
	b, now := c.Batch, c.Time()
	per := maxTransactItems - 1 // one action is the batch's progress counter
	if c.PerWrite > 0 && c.PerWrite < per {
		per = c.PerWrite
	}
	max := per
	if per == maxTransactItems-1 && !c.Short {
		max = transactionsPerMoveCall * per
	}
	keys, last, err := s.movable(ctx, b, max)
	if err != nil {
		return migration.ChunkResult{}, err
	}

	// Every item of the call gets the same change under the same condition.
	src, dst := b.SourceHolder(), b.TargetHolder()
	upd := expression.Set(expression.Name("holder"), expression.Value(dst)).
		Set(expression.Name(attrGSI1PK), expression.Value(holdPK(dst))).
		Set(expression.Name("movedBy"), expression.Value(b.BatchID)).
		Set(expression.Name("movedIn"), expression.Value(b.MigrationID)).
		Set(expression.Name("movedAt"), expression.Value(now.UTC().Format(time.RFC3339Nano)))
	move, err := expression.NewBuilder().WithUpdate(upd).WithCondition(expression.Name("holder").Equal(expression.Value(src))).Build()
	if err != nil {
		return migration.ChunkResult{}, err
	}
	var out migration.ChunkResult
	for start := 0; start < len(keys); start += per {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		group := keys[start:min(start+per, len(keys))]
		var closing *migration.Transition
		if c.Closing != nil && last && start+per >= len(keys) && len(group)+2+len(c.Closing.Also) <= maxTransactItems {
			t := *c.Closing // the items, the batch, its audit events; stamped as written
			t.Audit.At = migration.Stamp(c.Time())
			if b.Left != nil {
				n := min(len(group), *b.Left)
				t.LeftIs = &n // only if these are the last: nothing joined since
			}
			closing = &t
		}
		n, closed, err := s.moveItems(ctx, b, group, move, closing)
		out.Moved += n
		if b.Left != nil {
			left := *b.Left - n
			if left < 0 {
				left = 0
			}
			b.Left = &left
		}
		if err != nil || closed {
			out.Done, out.Closed = closed, closed
			return out, err
		}
	}
	// An empty page, or one whose items had all moved already: the next call
	// looks again.
	out.Done = last
	return out, nil
}

// moveItems is one of MoveChunk's transactions: the items with these keys
// (<= 99) and the progress counter, or the closing transition with it.
// committed reports a batch that is COMMITTED (closed by it, or by another mover).
func (s *Commits) moveItems(ctx context.Context, b migration.Batch, keys []string, move expression.Expression, closing *migration.Transition) (moved int, committed bool, err error) {
	dst := b.TargetHolder()
	retries := 0
	for len(keys) > 0 {
		writes := make([]types.TransactWriteItem, 0, len(keys)+3)
		for _, pk := range keys {
			writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, metaSK),
				UpdateExpression: move.Update(), ConditionExpression: move.Condition(), ExpressionAttributeNames: move.Names(),
				ExpressionAttributeValues: move.Values(), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
		}
		batch, err := s.progressWrites(b, len(keys), closing)
		if err != nil {
			return 0, false, err
		}
		writes = append(writes, batch...)

		err = s.transact(ctx, writes)
		if err == nil {
			return len(keys), closing != nil, nil
		}
		failed := conditionFailures(err)
		if len(failed) == 0 {
			return 0, false, cancelled(err, "moving a chunk")
		}
		if failed[len(keys)+1] && !failed[len(keys)] {
			return 0, false, cancelled(err, "closing the batch")
		}
		if failed[len(keys)] {
			cur, rerr := s.records.Batch(ctx, b.MigrationID, b.BatchID)
			if rerr != nil {
				return 0, false, rerr
			}
			if cur.State == migration.Committed {
				return 0, true, nil
			}
			if cur.State == migration.Committing && (closing != nil || b.Left != nil) && retries < 5 {
				// More joined the batch (move these, close later), or its count
				// changed under an uncounted move: read it again and retry.
				closing, b.Left = nil, cur.Left
				retries++
				continue
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

// progressWrites are the batch's side of a move: its counter, conditioned on
// COMMITTING, or (closing) the COMMITTED transition with the counter.
func (s *Commits) progressWrites(b migration.Batch, n int, closing *migration.Transition) ([]types.TransactWriteItem, error) {
	// An item the point of no return did not count (it was not at the source
	// then: ops repaired it by hand before resuming) is counted as it moves:
	// total grows with moved, under a condition that the count read is still
	// the count (a record that joined meanwhile makes the move read again).
	extra := 0
	if b.Left != nil && n > *b.Left {
		extra = n - *b.Left
	}
	count := func(u expression.UpdateBuilder) expression.UpdateBuilder {
		u = u.Add(expression.Name("moved"), expression.Value(n))
		if b.Left != nil {
			u = u.Add(expression.Name("left"), expression.Value(-(n - extra)))
		}
		if extra > 0 {
			u = u.Add(expression.Name("total"), expression.Value(extra))
		}
		return u
	}
	if closing != nil {
		return s.steps.transitionWrites(*closing, count)
	}
	cond := expression.Name("state").Equal(expression.Value(migration.Committing))
	if extra > 0 {
		cond = cond.And(expression.Name("left").Equal(expression.Value(*b.Left)))
	}
	expr, err := expression.NewBuilder().WithUpdate(count(expression.UpdateBuilder{})).
		WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()}}}, nil
}

// movable finds up to max keys of what the batch has still to move: what its
// source holds under the batch key, less what arrived too late for it
// (waitsFor: a later migration takes those). last says nothing is beyond.
// The query reads each item's key alone: the moves need nothing else, and a
// lighter page is cheaper to read (and, in moto, to build).
func (s *Commits) movable(ctx context.Context, b migration.Batch, max int) (keys []string, last bool, err error) {
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(holdPK(b.SourceHolder()))).
		And(expression.Key(attrGSI1SK).BeginsWith(batchPrefix(b.BatchKey)))
	waits := expression.Name("waitsFor")
	filter := expression.AttributeNotExists(waits).Or(waits.NotEqual(expression.Value(b.BatchID)))
	qexpr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).
		WithProjection(expression.NamesList(expression.Name(attrPK))).Build()
	if err != nil {
		return nil, false, err
	}
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexHeld),
			KeyConditionExpression: qexpr.KeyCondition(), FilterExpression: qexpr.Filter(), ProjectionExpression: qexpr.Projection(),
			ExpressionAttributeNames: qexpr.Names(), ExpressionAttributeValues: qexpr.Values(),
			ExclusiveStartKey: start, Limit: aws.Int32(int32(max - len(keys)))})
		if err != nil {
			return nil, false, storeErr(err)
		}
		for _, row := range res.Items {
			pk, ok := row[attrPK].(*types.AttributeValueMemberS)
			if !ok {
				return nil, false, migration.Errorf(migration.CodeInternal, "a record of %s has no key", holdPK(b.SourceHolder()))
			}
			keys = append(keys, pk.Value)
		}
		start = res.LastEvaluatedKey
		// A page of waiting items only: read on, or the call would find
		// nothing while items are left behind them.
		if len(start) == 0 || len(keys) >= max || len(keys) > 0 {
			return keys, len(start) == 0 && len(keys) < max, nil
		}
	}
}
