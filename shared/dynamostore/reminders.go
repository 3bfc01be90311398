package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// Reminders marks on a waiting batch the reminders sent for its deadline.
type Reminders struct{ *base }

var _ migration.Reminders = (*Reminders)(nil)

// MarkReminded adds marks to the batch's set of reminders sent, only while it
// is still in b.State and marks[0] is not in the set: two sweeps at once send
// a reminder once, and a batch that moved on gets none.
func (s *Reminders) MarkReminded(ctx context.Context, b migration.Batch, marks []string) (bool, error) {
	if len(marks) == 0 {
		return false, nil
	}
	cond := expression.Name("state").Equal(expression.Value(b.State)).
		And(expression.Not(expression.Contains(expression.Name("reminded"), marks[0])))
	expr, err := expression.NewBuilder().WithUpdate(expression.Add(expression.Name("reminded"), expression.Value(&types.AttributeValueMemberSS{Value: marks}))).
		WithCondition(cond).Build()
	if err != nil {
		return false, err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, storeErr(err)
	}
	return true, nil
}

// UnmarkReminded takes marks out of the batch's set of reminders sent.
func (s *Reminders) UnmarkReminded(ctx context.Context, b migration.Batch, marks []string) error {
	expr, err := expression.NewBuilder().WithUpdate(expression.Delete(expression.Name("reminded"), expression.Value(&types.AttributeValueMemberSS{Value: marks}))).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	return storeErr(err)
}
