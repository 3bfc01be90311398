package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/migration"
)

// importLockPK is the one row that lets a single import write at a time.
// Rows an import found absent at its check are written with BatchWriteItem,
// which takes no condition; only imports create those rows (the service
// moves and binds rows that exist, it never creates an old-platform record),
// so while the lock is held, absent at the check is still absent at the
// write, and nothing a migration did to a row can be overwritten.
const importLockPK = "IMPORTLOCK"

// ImportLease is how long an import's lock lasts without renewal: a killed
// import's lock frees itself after it.
const ImportLease = 45 * time.Second

// Lock takes the table's import lock for owner, waiting while another live
// import holds it (and saying so through waiting), and renews it until
// unlock is called.
func (t importTable) Lock(ctx context.Context, owner string, waiting func(holder string, until time.Time)) (unlock func(), err error) {
	for {
		holder, until, err := t.s.tryImportLock(ctx, owner)
		if err != nil {
			return nil, err
		}
		if holder == owner {
			break
		}
		if waiting != nil {
			waiting(holder, until)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(time.Until(until)+time.Second, 5*time.Second)):
		}
	}
	stopRenewing := importer.RenewEvery(ctx, ImportLease/3, func(ctx context.Context) { _, _, _ = t.s.tryImportLock(ctx, owner) })
	return func() {
		stopRenewing()
		expr, err := expression.NewBuilder().WithCondition(expression.Name("owner").Equal(expression.Value(owner))).Build()
		if err == nil {
			_, _ = t.s.db.DeleteItem(context.WithoutCancel(ctx), &dynamodb.DeleteItemInput{TableName: &t.s.table, Key: key(importLockPK, metaSK),
				ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
		}
	}, nil
}

// tryImportLock takes or renews the lock for owner; it answers who holds
// it and until when.
func (s *SnapshotImport) tryImportLock(ctx context.Context, owner string) (holder string, until time.Time, err error) {
	now := time.Now()
	until = now.Add(ImportLease)
	lease := expression.Name("leaseUntil")
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name("owner").Equal(expression.Value(owner))).
		Or(lease.LessThan(expression.Value(now.Unix())))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return "", time.Time{}, err
	}
	item := key(importLockPK, metaSK)
	item["owner"] = &types.AttributeValueMemberS{Value: owner}
	item["leaseUntil"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(until.Unix(), 10)}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		other := stringAttr(ccf.Item, "owner")
		n, _ := strconv.ParseInt(numberAttr(ccf.Item, "leaseUntil"), 10, 64)
		return other, time.Unix(n, 0), nil
	}
	if err != nil {
		return "", time.Time{}, storeErr(err)
	}
	return owner, until, nil
}

func numberAttr(row map[string]types.AttributeValue, name string) string {
	if v, ok := row[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// batchWriteLimit is BatchWriteItem's limit of puts per call.
const batchWriteLimit = 25

// putChecked writes rows the check found absent, 25 a BatchWriteItem call,
// sending again what DynamoDB leaves unprocessed (with a growing pause).
// Only under the import lock (Lock).
func (s *SnapshotImport) putChecked(ctx context.Context, rows []importRow, added map[string]int) error {
	for start := 0; start < len(rows); start += batchWriteLimit {
		chunk := rows[start:min(start+batchWriteLimit, len(rows))]
		reqs := make([]types.WriteRequest, len(chunk))
		for i, r := range chunk {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: r.av}}
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending[s.table]) > 0; attempt++ {
			if attempt > 10 {
				return migration.Errorf(migration.CodeUnavailable, "import: DynamoDB kept %d writes unprocessed; run the import again", len(pending[s.table]))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("import: %w", storeErr(err))
			}
			pending = out.UnprocessedItems
		}
		for _, r := range chunk {
			if r.kind != "" {
				added[r.kind]++
			}
		}
	}
	return nil
}
