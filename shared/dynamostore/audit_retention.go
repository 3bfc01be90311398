package dynamostore

// Retention of where requests came from (docs/PRIVACY.md): an audit record
// that holds an IP address or a user agent is marked when it is written and
// filed in the audit table's sparse index "personal" by its time; past the
// retention period a scheduled job removes those two fields and the mark,
// and the record (the fact, the version and the hash accepted, who and
// when) stays.

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	// indexPersonal is the audit table's sparse index of records that hold
	// personal data: HASH attrPersonal, RANGE "at".
	indexPersonal = "personal"
	attrPersonal  = "personal"
	personalIPUA  = "ip-ua"
	attrAt        = "at"
	attrReducedAt = "personalDataReducedAt"
)

// markPersonal files an audit record that holds an IP or a user agent in
// the personal index, so the retention job finds it without a scan.
func markPersonal(item map[string]types.AttributeValue) {
	if len(personalPaths(item)) > 0 {
		item[attrPersonal] = &types.AttributeValueMemberS{Value: personalIPUA}
	}
}

// personalPaths lists the personal fields an audit record holds, as paths
// for a REMOVE (a path through a map the item lacks would be refused).
func personalPaths(item map[string]types.AttributeValue) []expression.NameBuilder {
	var out []expression.NameBuilder
	for _, parent := range []string{"detail", "agreement"} {
		m, ok := item[parent].(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		for _, k := range []string{"sourceIp", "userAgent"} {
			if _, ok := m.Value[k]; ok {
				out = append(out, expression.Name(parent+"."+k))
			}
		}
	}
	return out
}

// ReduceAuditPersonalData removes the IPs and user agents of the audit
// records written before cutoff (a migration.Stamp), at most limit records
// per call (0: all); it reports how many it reduced and whether more are due.
// Safe to run again and at once with itself: each record is reduced under the
// condition that it is still marked.
func (s *Audit) ReduceAuditPersonalData(ctx context.Context, cutoff, now string, limit int) (reduced int, more bool, err error) {
	keyCond := expression.Key(attrPersonal).Equal(expression.Value(personalIPUA)).And(expression.Key(attrAt).LessThan(expression.Value(cutoff)))
	kexpr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return 0, false, err
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{TableName: aws.String(s.audit), IndexName: aws.String(indexPersonal),
		KeyConditionExpression: kexpr.KeyCondition(), ExpressionAttributeNames: kexpr.Names(), ExpressionAttributeValues: kexpr.Values()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return reduced, false, storeErr(err)
		}
		for _, item := range page.Items {
			if limit > 0 && reduced == limit {
				return reduced, true, nil
			}
			if err := s.reduceOne(ctx, item, now); err != nil {
				return reduced, false, err
			}
			reduced++
		}
	}
	return reduced, false, nil
}

func (s *Audit) reduceOne(ctx context.Context, item map[string]types.AttributeValue, now string) error {
	upd := expression.Remove(expression.Name(attrPersonal)).Set(expression.Name(attrReducedAt), expression.Value(now))
	for _, path := range personalPaths(item) {
		upd = upd.Remove(path)
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).
		WithCondition(expression.AttributeExists(expression.Name(attrPersonal))).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.audit),
		Key: map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]}, UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // reduced meanwhile (another run, or an erasure)
	}
	return storeErr(err)
}
