package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// claimPut makes migrationID the account's one active migration, unless
// another holds it: a put that passes only on no claim or its own.
func (s *Store) claimPut(src migration.AccountRef, migrationID string) (types.TransactWriteItem, error) {
	cond := expression.AttributeNotExists(expression.Name(attrPK)).Or(expression.Name("migrationId").Equal(expression.Value(migrationID)))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	item, err := record(activeClaim{migrationID}, map[string]string{attrPK: activePK(src), attrSK: metaSK})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}, nil
}

type activeClaim struct {
	MigrationID string `dynamodbav:"migrationId"`
}

// ClaimActive makes migrationID the account's one active migration, unless
// another holds it; it returns whichever id is active. CreateMigration claims
// in its own transaction; this stands alone for tools and tests.
func (s *Store) ClaimActive(ctx context.Context, src migration.AccountRef, migrationID string) (string, error) {
	claim, err := s.claimPut(src, migrationID)
	if err != nil {
		return "", err
	}
	err = s.transact(ctx, []types.TransactWriteItem{claim})
	if conditionFailures(err)[0] {
		return s.activeHolder(ctx, src, err, 0)
	}
	return migrationID, cancelled(err, "claiming the account")
}

// activeHolder names the migration whose claim failed the action at index i
// of a cancelled transaction: from the reason's old item, else by reading it.
func (s *Store) activeHolder(ctx context.Context, src migration.AccountRef, err error, i int) (string, error) {
	var cur activeClaim
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && i < len(tce.CancellationReasons) && tce.CancellationReasons[i].Item != nil {
		if uerr := attributevalue.UnmarshalMap(tce.CancellationReasons[i].Item, &cur); uerr == nil && cur.MigrationID != "" {
			return cur.MigrationID, nil
		}
	}
	if err := s.get(ctx, activePK(src), metaSK, &cur, "active migration"); err != nil {
		return "", err
	}
	return cur.MigrationID, nil
}

// ReleaseActive frees the account's claim if migrationID still holds it.
func (s *Store) ReleaseActive(ctx context.Context, src migration.AccountRef, migrationID string) error {
	release, err := s.releaseDelete(src, migrationID)
	if err != nil {
		return err
	}
	d := release.Delete
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: d.TableName, Key: d.Key, ConditionExpression: d.ConditionExpression,
		ExpressionAttributeNames: d.ExpressionAttributeNames, ExpressionAttributeValues: d.ExpressionAttributeValues})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // released already, or another migration holds it now
	}
	return storeErr(err)
}

// releaseDelete deletes the account's claim only while migrationID holds it:
// alone (ReleaseActive) or inside the transaction that ends the migration.
func (s *Store) releaseDelete(src migration.AccountRef, migrationID string) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("migrationId").Equal(expression.Value(migrationID))).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(activePK(src), metaSK),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, nil
}

// CreateMigration claims the account and writes the migration, its batches
// and the audit event. The claim rides in the first transaction, so a
// migration that loses it writes nothing and the answer names the holder.
// Each other write is conditioned on not existing, so a retried step changes
// nothing.
func (s *Store) CreateMigration(ctx context.Context, m migration.Migration, batches []migration.Batch, ev migration.AuditEvent) (string, error) {
	notExists, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return "", err
	}
	put := func(av map[string]types.AttributeValue) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av, ConditionExpression: notExists.Condition(),
			ExpressionAttributeNames: notExists.Names()}}
	}
	claim, err := s.claimPut(m.Source, m.MigrationID)
	if err != nil {
		return "", err
	}
	writes := []types.TransactWriteItem{claim}
	for _, b := range batches {
		av, err := record(batchRecord{Batch: b}, map[string]string{attrPK: migrationPK(m.MigrationID), attrSK: batchSK(b.BatchID),
			attrGSI2PK: batchStatePK(b.State), attrGSI2SK: migration.SortableTime(b.UpdatedAt) + "#" + b.MigrationID + "#" + b.BatchID})
		if err != nil {
			return "", err
		}
		writes = append(writes, put(av))
	}
	mav, err := record(m, map[string]string{attrPK: migrationPK(m.MigrationID), attrSK: metaSK,
		attrGSI2PK: migrationsPK(m.Source), attrGSI2SK: migration.SortableTime(m.CreatedAt)})
	if err != nil {
		return "", err
	}
	audit, err := s.auditPut(ev, auditSeq(ev))
	if err != nil {
		return "", err
	}
	// The claim and batches first, in chunks; the migration record last, so
	// a migration that exists always has all its batches.
	claimed := false
	for _, chunk := range createChunks(writes, put(mav), audit) {
		err := s.transact(ctx, chunk)
		if !claimed && conditionFailures(err)[0] {
			return s.activeHolder(ctx, m.Source, err, 0)
		}
		if err != nil && !isAllConditionFailed(err) {
			return "", cancelled(err, "creating the migration")
		}
		claimed = true
	}
	return m.MigrationID, nil
}

// createChunks cuts the claim and batch writes into transactions, keeping
// the migration record and its audit event together in the last one.
func createChunks(writes []types.TransactWriteItem, last ...types.TransactWriteItem) [][]types.TransactWriteItem {
	var chunks [][]types.TransactWriteItem
	for len(writes)+len(last) > maxTransactItems {
		n := min(len(writes), maxTransactItems)
		chunks = append(chunks, writes[:n])
		writes = writes[n:]
	}
	return append(chunks, append(writes, last...))
}

// SetExecutionArn records the execution that drives the migration.
func (s *Store) SetExecutionArn(ctx context.Context, migrationID, arn string) error {
	return s.update(ctx, migrationPK(migrationID), metaSK, expression.Set(expression.Name("executionArn"), expression.Value(arn)),
		expression.AttributeExists(expression.Name(attrPK)))
}

// EndMigration records that the migration ended, with its audit event, and
// frees the account's claim in the same transaction. A claim another
// migration holds by now (freed early by a new start) is left to it.
func (s *Store) EndMigration(ctx context.Context, src migration.AccountRef, migrationID string, ev migration.AuditEvent) error {
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("summarized"), expression.Value(true))).
		WithCondition(expression.AttributeExists(expression.Name(attrPK)).And(expression.AttributeNotExists(expression.Name("summarized")))).Build()
	if err != nil {
		return err
	}
	audit, err := s.auditPut(ev, auditSeq(ev))
	if err != nil {
		return err
	}
	release, err := s.releaseDelete(src, migrationID)
	if err != nil {
		return err
	}
	mark := types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(migrationID), metaSK),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()}}
	err = s.transact(ctx, []types.TransactWriteItem{mark, audit, release})
	if failed := conditionFailures(err); failed[2] && !failed[0] {
		// Only the claim had moved on: end the migration without it.
		err = s.transact(ctx, []types.TransactWriteItem{mark, audit})
	}
	if err != nil && isAllConditionFailed(err) {
		return nil // ended already
	}
	return cancelled(err, "ending the migration")
}

// RecordView records that the account viewed the agreement (rule 6), once
// per account and text (version and its hash): the view's record is put only
// where none is, and a view already recorded writes nothing, audit included,
// however often the text is read.
func (s *Store) RecordView(ctx context.Context, src migration.AccountRef, a migration.Agreement, ev migration.AuditEvent) error {
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
func (s *Store) Transition(ctx context.Context, t migration.Transition) (migration.Batch, error) {
	writes, err := s.transitionWrites(t, nil)
	if err != nil {
		return migration.Batch{}, err
	}
	err = s.transact(ctx, writes)
	if failed := conditionFailures(err); failed[0] {
		cur, rerr := s.Batch(ctx, t.MigrationID, t.BatchID)
		if rerr != nil {
			return migration.Batch{}, rerr
		}
		return cur, migration.Errorf(migration.CodeWrongStep, "batch is %s", cur.State)
	}
	if err != nil {
		return migration.Batch{}, err
	}
	return s.Batch(ctx, t.MigrationID, t.BatchID)
}

// transitionWrites are a transition's actions: the batch's conditional update
// (with more, such as a move's progress, when given) and then its audit
// events, each appended once.
func (s *Store) transitionWrites(t migration.Transition, more func(expression.UpdateBuilder) expression.UpdateBuilder) ([]types.TransactWriteItem, error) {
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
func (s *Store) ParkToken(ctx context.Context, migrationID, batchID string, step migration.Step, token string) (migration.Batch, bool, error) {
	err := s.update(ctx, migrationPK(migrationID), batchSK(batchID),
		expression.Set(expression.Name(tokenAttr[step]), expression.Value(token)),
		expression.Name("state").Equal(expression.Value(step.WaitState())))
	b, rerr := s.Batch(ctx, migrationID, batchID)
	if rerr != nil {
		return migration.Batch{}, false, rerr
	}
	if migration.IsCode(err, migration.CodeNotFound) {
		return b, false, nil
	}
	return b, err == nil, err
}
