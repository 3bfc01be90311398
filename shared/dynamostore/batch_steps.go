package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// BatchSteps records a batch's steps before the point of no return: the
// agreement viewed, each conditional transition with its audit events, and
// the workflow's parked task tokens. It reads a batch back through records.
type BatchSteps struct {
	*base
	records *MigrationRecords
}

var _ migration.BatchSteps = (*BatchSteps)(nil)

// HasViewed reports whether the account viewed that agreement.
func (s *BatchSteps) HasViewed(ctx context.Context, src migration.AccountRef, version, sha string) (bool, error) {
	var v struct{}
	err := s.get(ctx, viewPK(src), version+"#"+sha, &v, "view")
	if migration.IsCode(err, migration.CodeNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RecordView records that the account viewed the agreement (rule 6), once
// per account and text (version and its hash): the view's record is put only
// where none is, and a view already recorded writes nothing, audit included,
// however often the text is read.
func (s *BatchSteps) RecordView(ctx context.Context, src migration.AccountRef, a migration.Agreement, ev migration.AuditEvent) error {
	av, err := record(struct {
		Version  string `dynamodbav:"version"`
		SHA256   string `dynamodbav:"sha256"`
		ViewedAt string `dynamodbav:"viewedAt"`
	}{a.Version, a.SHA256, ev.At}, map[string]string{attrPK: viewPK(src), attrSK: a.Version + "#" + a.SHA256})
	if err != nil {
		return err
	}
	audit, err := s.auditPut(ev, auditSeq(ev))
	if err != nil {
		return err
	}
	once, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return err
	}
	view := types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av, ConditionExpression: once.Condition(),
		ExpressionAttributeNames: once.Names(), ExpressionAttributeValues: once.Values()}}
	err = s.transact(ctx, []types.TransactWriteItem{view, audit})
	if conditionFailures(err)[0] {
		return nil // viewed before (or a resent write that had applied): the view is recorded
	}
	return err
}

// stateIn is the condition "state is one of from".
func stateIn(from []migration.BatchState) expression.ConditionBuilder {
	ops := make([]expression.OperandBuilder, len(from))
	for i, st := range from {
		ops[i] = expression.Value(st)
	}
	if len(ops) == 1 {
		return expression.Name("state").Equal(ops[0])
	}
	return expression.Name("state").In(ops[0], ops[1:]...)
}

// Transition changes a batch's state, only from the allowed states, together
// with its audit event.
func (s *BatchSteps) Transition(ctx context.Context, t migration.Transition) (migration.Batch, error) {
	writes, err := s.transitionWrites(t, nil)
	if err != nil {
		return migration.Batch{}, err
	}
	err = s.transact(ctx, writes)
	if failed := conditionFailures(err); failed[0] {
		cur, rerr := s.records.Batch(ctx, t.MigrationID, t.BatchID)
		if rerr != nil {
			return migration.Batch{}, rerr
		}
		return cur, migration.Errorf(migration.CodeWrongStep, "batch is %s", cur.State)
	}
	if err != nil {
		return migration.Batch{}, err
	}
	return s.records.Batch(ctx, t.MigrationID, t.BatchID)
}

// transitionWrites are a transition's actions: the batch's conditional update
// (with more, such as a move's progress, when given) and then its audit
// events, each appended once.
func (s *BatchSteps) transitionWrites(t migration.Transition, more func(expression.UpdateBuilder) expression.UpdateBuilder) ([]types.TransactWriteItem, error) {
	upd := expression.Set(expression.Name("state"), expression.Value(t.To)).
		Set(expression.Name("updatedAt"), expression.Value(t.Audit.At)).
		Set(expression.Name(attrGSI2PK), expression.Value(batchStatePK(t.To))).
		Set(expression.Name(attrGSI2SK), expression.Value(migration.SortableTime(t.Audit.At)+"#"+t.MigrationID+"#"+t.BatchID))
	if t.Agreement != nil {
		upd = upd.Set(expression.Name("agreement"), expression.Value(t.Agreement))
	}
	if t.Target != nil {
		upd = upd.Set(expression.Name("target"), expression.Value(t.Target)).
			Set(expression.Name("targetAccountId"), expression.Value(t.TargetAccountID))
	}
	if t.Error != nil {
		upd = upd.Set(expression.Name("error"), expression.Value(t.Error))
	} else if t.To == migration.Committed {
		upd = upd.Remove(expression.Name("error")) // a stall that ops resumed is over
	}
	cond := stateIn(t.From)
	if t.LastRefusal != nil {
		upd = upd.Set(expression.Name("lastRefusal"), expression.Value(t.LastRefusal))
	}
	if t.ReplacesTarget != nil {
		prev := expression.Name("targetAccountId")
		if *t.ReplacesTarget == "" {
			cond = cond.And(expression.AttributeNotExists(prev))
		} else {
			cond = cond.And(prev.Equal(expression.Value(*t.ReplacesTarget)))
		}
	}
	if t.ClearTarget != "" {
		// Only the target that was refused: a newer choice stays.
		upd = upd.Remove(expression.Name("target")).Remove(expression.Name("targetAccountId"))
		cond = cond.And(expression.Name("targetAccountId").Equal(expression.Value(t.ClearTarget)))
	}
	if t.LeftIs != nil {
		left := expression.Name("left")
		cond = cond.And(expression.AttributeNotExists(left).Or(left.LessThanEqual(expression.Value(*t.LeftIs))))
	}
	if more != nil {
		upd = more(upd)
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	writes := []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table,
		Key: key(migrationPK(t.MigrationID), batchSK(t.BatchID)), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}}
	audit, err := s.auditPut(t.Audit, auditSeq(t.Audit)+"#"+string(t.To))
	if err != nil {
		return nil, err
	}
	writes = append(writes, audit)
	for _, ev := range t.Also {
		audit, err := s.auditPut(ev, auditSeq(ev)+"#"+string(ev.To))
		if err != nil {
			return nil, err
		}
		writes = append(writes, audit)
	}
	return writes, nil
}

// ParkToken stores a wait's task token while the batch still waits for step.
func (s *BatchSteps) ParkToken(ctx context.Context, migrationID, batchID string, step migration.Step, token string) (migration.Batch, bool, error) {
	err := s.update(ctx, migrationPK(migrationID), batchSK(batchID),
		expression.Set(expression.Name(tokenAttr[step]), expression.Value(token)),
		expression.Name("state").Equal(expression.Value(step.WaitState())))
	b, rerr := s.records.Batch(ctx, migrationID, batchID)
	if rerr != nil {
		return migration.Batch{}, false, rerr
	}
	if migration.IsCode(err, migration.CodeNotFound) {
		return b, false, nil
	}
	return b, err == nil, err
}
