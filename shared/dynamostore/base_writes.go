package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// Writes every role uses: one transaction (its audit records numbered in
// sequence), one conditional update, and how a cancelled transaction reads.

// maxTransactItems is DynamoDB's limit of actions in one TransactWriteItems.
const maxTransactItems = 100

// transact runs one TransactWriteItems.
// Audit puts among the items get their account's next sequence numbers; a
// transaction cancelled only because another writer took a number first is
// sent again with the next ones.
func (s *base) transact(ctx context.Context, items []types.TransactWriteItem) error {
	audits := s.auditIndexes(items)
	for attempt := 1; ; attempt++ {
		if err := s.sequenceAudit(ctx, items, audits); err != nil {
			return err
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return storeErr(err)
		}
		if len(audits) == 0 || !onlyAuditRaced(tce.CancellationReasons, audits) {
			return err // callers read the cancellation reasons
		}
		if attempt == auditSeqAttempts {
			return &migration.Error{Code: migration.CodeUnavailable, Message: "too many writers on this account's audit trail at once; try again", Err: err}
		}
		if err := auditRaceBackoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *base) update(ctx context.Context, pk, sk string, upd expression.UpdateBuilder, cond expression.ConditionBuilder) error {
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pk, sk), UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return migration.Errorf(migration.CodeNotFound, "no such record")
	}
	return storeErr(err)
}

// conditionFailures maps the index of each action whose condition failed.
func conditionFailures(err error) map[int]bool {
	out := map[int]bool{}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return out
	}
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			out[i] = true
		}
	}
	return out
}

// isAllConditionFailed reports a transaction cancelled only by conditions.
func isAllConditionFailed(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	for _, r := range tce.CancellationReasons {
		if c := aws.ToString(r.Code); c != "" && c != "None" && c != "ConditionalCheckFailed" {
			return false
		}
	}
	return true
}

// cancelled turns an unexpected transaction cancellation into a coded error.
func cancelled(err error, what string) error {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if c := aws.ToString(r.Code); c == "TransactionConflict" || c == "ThrottlingError" || c == "ProvisionedThroughputExceeded" {
				return &migration.Error{Code: migration.CodeUnavailable, Message: what + " met a concurrent change; try again", Err: err}
			}
		}
		return &migration.Error{Code: migration.CodeInternal, Message: fmt.Sprintf("%s was cancelled", what), Err: err}
	}
	return err
}
