package dynamostore

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// Holdings of a subject's target accounts on developer, as imported (one row
// per account, HELD#<subject> / developer#<id>), and the markers of those the
// quota counter absorbed already (absorbed#developer#<id>).
const (
	heldPrefix     = "developer#"
	absorbedPrefix = "absorbed#developer#"
)

func heldPK(subjectID string) string { return "HELD#" + subjectID }

// heldRow is the import's row for a target account that arrives bound to a
// subject holding mini-programs; nil when there is nothing to count.
func heldRow(t migration.TargetAccount) (map[string]types.AttributeValue, error) {
	if t.Platform != migration.TargetDeveloper || t.SubjectID == "" || t.MiniPrograms <= 0 {
		return nil, nil
	}
	return record(struct {
		MiniPrograms int `dynamodbav:"miniprograms"`
	}{t.MiniPrograms}, map[string]string{attrPK: heldPK(t.SubjectID), attrSK: heldPrefix + t.ID})
}

func (s *Commits) holdings(ctx context.Context, subjectID string) (held map[string]int, absorbed map[string]bool, err error) {
	rows, err := s.queryAll(ctx, heldPK(subjectID), "")
	if err != nil {
		return nil, nil, err
	}
	held, absorbed = map[string]int{}, map[string]bool{}
	for _, row := range rows {
		sk := stringAttr(row, attrSK)
		switch {
		case strings.HasPrefix(sk, absorbedPrefix):
			absorbed[strings.TrimPrefix(sk, absorbedPrefix)] = true
		case strings.HasPrefix(sk, heldPrefix):
			var h struct {
				MiniPrograms int `dynamodbav:"miniprograms"`
			}
			if err := attributevalue.UnmarshalMap(row, &h); err != nil {
				return nil, nil, err
			}
			held[strings.TrimPrefix(sk, heldPrefix)] = h.MiniPrograms
		}
	}
	return held, absorbed, nil
}

// willMove reads, consistently, everything the batch's move will take: the
// items its source still holds under the batch key (the index proposes
// them, each item's own record decides: the index may lag and still list an
// item that moved a moment ago) and the items imported into the batch while
// it waited (Joined, read whatever the index says), less those that arrived
// too late for it (WaitsFor). total is what the move will take, mini the
// mini-programs among them.
func (s *Commits) willMove(ctx context.Context, b migration.Batch) (total, mini int, err error) {
	src := b.SourceHolder()
	minis, others, err := s.indexed(ctx, src, batchPrefix(b.BatchKey))
	if err != nil {
		return 0, 0, err
	}
	keys := append(minis, others...)
	for _, k := range b.Joined {
		keys = append(keys, key("ITEM#"+k, metaSK))
	}
	rows, err := s.readKeys(ctx, keys)
	if err != nil {
		return 0, 0, err
	}
	for _, row := range rows {
		var it migration.Item
		if err := attributevalue.UnmarshalMap(row, &it); err != nil {
			return 0, 0, err
		}
		if it.Holder == src && it.BatchKey == b.BatchKey && it.Skip == "" && it.WaitsFor != b.BatchID {
			total++
			if it.IsMiniProgram() {
				mini++
			}
		}
	}
	return total, mini, nil
}

// indexed lists the keys the index files under holder and prefix: the
// mini-programs apart (an item's type and kind never change, so the lagging
// index may say which they are).
func (s *Commits) indexed(ctx context.Context, holder, prefix string) (minis, others []map[string]types.AttributeValue, err error) {
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(holdPK(holder))).And(expression.Key(attrGSI1SK).BeginsWith(prefix))
	qexpr, err := expression.NewBuilder().WithKeyCondition(kc).
		WithProjection(expression.NamesList(expression.Name(attrPK), expression.Name("type"), expression.Name("kind"))).Build()
	if err != nil {
		return nil, nil, err
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexHeld),
		KeyConditionExpression: qexpr.KeyCondition(), ProjectionExpression: qexpr.Projection(),
		ExpressionAttributeNames: qexpr.Names(), ExpressionAttributeValues: qexpr.Values()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, storeErr(err)
		}
		for _, row := range page.Items {
			k := key(stringAttr(row, attrPK), metaSK)
			if stringAttr(row, "type") == string(migration.ItemApp) && stringAttr(row, "kind") == string(migration.AppMiniprogram) {
				minis = append(minis, k)
			} else {
				others = append(others, k)
			}
		}
	}
	return minis, others, nil
}
