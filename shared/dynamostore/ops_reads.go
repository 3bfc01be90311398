package dynamostore

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/devplatform/account-migration/shared/migration"
)

// OpsReads are the listings of ops (tools/opsctl, the API's ops routes) and
// of the schedules (the waiting probe, the reminders). They read the gsi2
// index, which is eventually consistent: a batch that changed state a moment
// ago may still be listed under its old state, so callers re-read a batch
// before acting on it.
type OpsReads struct{ *base }

var _ migration.BatchLister = (*OpsReads)(nil)

// BatchesInState lists the batches in state, oldest change first, keeping
// only those last changed before updatedBefore (zero: all). At most limit
// batches are returned (0: all).
func (s *OpsReads) BatchesInState(ctx context.Context, state migration.BatchState, updatedBefore time.Time, limit int) ([]migration.Batch, error) {
	kc := expression.Key(attrGSI2PK).Equal(expression.Value(batchStatePK(state)))
	if !updatedBefore.IsZero() {
		// gsi2sk is "<updatedAt>#<migrationId>#<batchId>" with an RFC 3339 time;
		// a second-precision bound one second on may let a few later ones in
		// (RFC3339Nano drops trailing zeros), which the exact filter below drops.
		bound := updatedBefore.UTC().Add(time.Second).Format(time.RFC3339)
		kc = kc.And(expression.Key(attrGSI2SK).LessThan(expression.Value(bound)))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexGSI2),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ScanIndexForward: aws.Bool(true)})
	var out []migration.Batch
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, storeErr(err)
		}
		for _, row := range page.Items {
			b, err := unmarshalBatch(row)
			if err != nil {
				return nil, err
			}
			if !updatedBefore.IsZero() {
				at, err := time.Parse(time.RFC3339Nano, b.UpdatedAt)
				if err == nil && !at.Before(updatedBefore) {
					continue
				}
			}
			out = append(out, b)
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// Migrations lists the account's migrations, newest first.
func (s *OpsReads) Migrations(ctx context.Context, src migration.AccountRef) ([]migration.Migration, error) {
	var out []migration.Migration
	cursor := ""
	for {
		rows, next, err := s.queryPage(ctx, indexGSI2, attrGSI2PK, migrationsPK(src), attrGSI2SK, "", cursor, 100, false)
		if err != nil {
			return nil, err
		}
		var page []migration.Migration
		if err := attributevalue.UnmarshalListOfMaps(rows, &page); err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			slices.Reverse(out) // the index sorts by createdAt, oldest first
			return out, nil
		}
		cursor = next
	}
}

// LatestMigration returns the account's most recent migration.
func (s *OpsReads) LatestMigration(ctx context.Context, src migration.AccountRef) (migration.Migration, error) {
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
