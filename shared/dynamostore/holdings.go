package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/devplatform/account-migration/shared/migration"
)

// Holdings reads the platforms' records: old-platform accounts and subjects,
// what each holder holds (the gsi1 index) and what follows its apps (gsi2),
// single items, and the target accounts.
type Holdings struct{ *base }

var _ migration.Holdings = (*Holdings)(nil)

// SourceAccount reads an old-platform account.
func (s *Holdings) SourceAccount(ctx context.Context, ref migration.AccountRef) (migration.Account, error) {
	var a migration.Account
	err := s.get(ctx, accountPK(ref), metaSK, &a, fmt.Sprintf("account %s", ref))
	return a, err
}

// Subject reads a subject.
func (s *Holdings) Subject(ctx context.Context, id string) (migration.Subject, error) {
	var sub migration.Subject
	err := s.get(ctx, subjectPK(id), metaSK, &sub, "subject "+id)
	return sub, err
}

// HeldItems pages through what holder holds, optionally one batch only.
func (s *Holdings) HeldItems(ctx context.Context, holder, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	return s.itemsPage(ctx, indexHeld, attrGSI1PK, holdPK(holder), attrGSI1SK, batchKey, cursor, limit)
}

// Followers pages through the relations on holder's apps.
func (s *Holdings) Followers(ctx context.Context, holder, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	return s.itemsPage(ctx, indexGSI2, attrGSI2PK, followPK(holder), attrGSI2SK, batchKey, cursor, limit)
}

// itemsPage is one page of items from an index, optionally one batch only.
func (s *Holdings) itemsPage(ctx context.Context, index, pkAttr, pk, skAttr, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	rows, next, err := s.queryPage(ctx, index, pkAttr, pk, skAttr, batchPrefix(batchKey), cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	items := make([]migration.Item, 0, len(rows))
	if err := attributevalue.UnmarshalListOfMaps(rows, &items); err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// Item reads one item consistently.
func (s *Holdings) Item(ctx context.Context, t migration.ItemType, id string) (migration.Item, error) {
	var it migration.Item
	err := s.get(ctx, itemPK(t, id), metaSK, &it, fmt.Sprintf("%s %s", t, id))
	return it, err
}

// TargetAccount reads a new-platform account.
func (s *Holdings) TargetAccount(ctx context.Context, p migration.TargetPlatform, id string) (migration.TargetAccount, error) {
	var t migration.TargetAccount
	err := s.get(ctx, targetPK(p, id), metaSK, &t, fmt.Sprintf("account %s on %s", id, p))
	return t, err
}

// TargetCandidates lists the accounts registered on p with login.
func (s *Holdings) TargetCandidates(ctx context.Context, p migration.TargetPlatform, login string) ([]migration.TargetAccount, error) {
	var out []migration.TargetAccount
	cursor := ""
	for {
		rows, next, err := s.queryPage(ctx, indexGSI2, attrGSI2PK, loginPK(p, login), attrGSI2SK, "", cursor, 100, false)
		if err != nil {
			return nil, err
		}
		var page []migration.TargetAccount
		if err := attributevalue.UnmarshalListOfMaps(rows, &page); err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// MovedItems pages through what holder holds under batchKey that batch
// batchID moved there (MoveChunk stamps movedBy). A target account may hold
// items of one batch key from several migrations (two source accounts of one
// subject); the filter keeps this batch's own. A filtered page may come back
// shorter than limit, even empty, with a cursor for the rest.
func (s *Holdings) MovedItems(ctx context.Context, holder, batchKey, batchID, cursor string, limit int) ([]migration.Item, string, error) {
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
