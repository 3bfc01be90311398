package dynamostore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// Commits is the one-way part of a batch: the point of no return (here, with
// what it reads of the subject's holdings in commits_held.go), the chunked
// move (commits_move.go) and the receipt. It reads the batch through records
// and the target account through targets; the move's closing is a
// transition, written as steps writes it.
type Commits struct {
	*base
	records *MigrationRecords
	targets *Holdings
	steps   *BatchSteps
}

var _ migration.Commits = (*Commits)(nil)

// PassPointOfNoReturn is the one transaction after which a batch only moves
// forward. All of it applies or none of it does:
//
//  0. the batch AWAITING_CONFIRMATION -> COMMITTING (so one of any number of
//     concurrent confirmations wins),
//  1. the subject's mini-program quota: one counter per subject, shared by
//     every account of the subject, gains what the batch brings plus what
//     the subject's target accounts already hold and the counter has not
//     absorbed yet (rule 12), under a condition, so racing commits never
//     overshoot it,
//  2. the target account created (mode "new") or bound to the batch's subject,
//     which it must not already hold another of (rule 3); a personal or
//     uncertified batch binds none,
//  3. the audit event.
//
// What it reserves comes from consistent reads of the batch's items, not
// from the plan: the index the plan was read from may lag (a phantom item
// moved by another migration a moment ago), and a batch with nothing left at
// its source reserves and binds nothing (NOTHING_TO_MOVE).
func (s *Commits) PassPointOfNoReturn(ctx context.Context, c migration.CommitStart) error {
	for attempt := 0; ; attempt++ {
		err := s.passOnce(ctx, c)
		if !errors.Is(err, errReadAgain) {
			return err
		}
		if attempt >= 4 {
			return &migration.Error{Code: migration.CodeUnavailable, Message: "the commit met concurrent changes; try again", Err: err}
		}
	}
}

// errReadAgain is a commit cancelled by a concurrent change of what it read
// (a holding absorbed, an account bound): it reads again and retries.
var errReadAgain = errors.New("commit: what was read changed")

// commitTx is the transaction being built, with where each checked part sits.
type commitTx struct {
	writes   []types.TransactWriteItem
	quotaAt  int
	targetAt int
	markers  map[int]bool // absorption markers: another commit absorbed first
	mini     int          // mini-programs the batch brings, by consistent reads
	total    int          // items the move will take, by consistent reads
}

func (s *Commits) passOnce(ctx context.Context, c migration.CommitStart) error {
	// The batch as it is now: what joined it while it waited is part of
	// what it moves, and a join after this read makes the commit read again.
	b, err := s.records.Batch(ctx, c.Batch.MigrationID, c.Batch.BatchID)
	if err != nil {
		return err
	}
	if b.State != migration.AwaitingConfirmation || b.TargetAccountID != c.Batch.TargetAccountID {
		return migration.Errorf(migration.CodeWrongStep, "batch is no longer awaiting confirmation")
	}
	c.Batch = b
	total, mini, err := s.willMove(ctx, b)
	if err != nil {
		return err
	}
	if total == 0 {
		return migration.Errorf(migration.CodeNothingToMove, "nothing of batch %s is left at its source: it moved with another migration", b.BatchKey)
	}
	tx := &commitTx{quotaAt: -1, markers: map[int]bool{}, mini: mini, total: total}
	if err := s.batchWrite(tx, b, c.Deadline, c.Audit.At); err != nil {
		return err
	}
	brings, err := s.targetWrite(ctx, tx, c)
	if err != nil {
		return err
	}
	if err := s.quotaWrites(ctx, tx, c, brings); err != nil {
		return err
	}
	ev := c.Audit
	ev.Detail = map[string]any{}
	for k, v := range c.Audit.Detail {
		ev.Detail[k] = v
	}
	ev.Detail["miniPrograms"], ev.Detail["total"] = mini, total
	audit, err := s.auditPut(ev, auditSeq(ev))
	if err != nil {
		return err
	}
	tx.writes = append(tx.writes, audit)

	err = s.transact(ctx, tx.writes)
	if err == nil {
		return nil
	}
	failed := conditionFailures(err)
	for i := range tx.markers {
		if failed[i] {
			return errReadAgain
		}
	}
	switch {
	case failed[0]:
		cur, rerr := s.records.Batch(ctx, b.MigrationID, b.BatchID)
		if rerr == nil && cur.State == migration.AwaitingConfirmation && cur.TargetAccountID == b.TargetAccountID {
			return errReadAgain // a record joined the batch since it was read
		}
		return migration.Errorf(migration.CodeWrongStep, "batch is no longer awaiting confirmation")
	case tx.quotaAt >= 0 && failed[tx.quotaAt]:
		return quotaExceeded(b, c.QuotaLimit, mini)
	case failed[tx.targetAt] && c.NewAccount != nil:
		return notEligible(b) // an account with the new account's id exists
	case failed[tx.targetAt]:
		return errReadAgain // changed since read: the next read decides
	}
	return cancelled(err, "the commit")
}

func quotaExceeded(b migration.Batch, limit, mini int) error {
	return migration.Errorf(migration.CodeQuotaExceeded, "subject %s may hold at most %d mini-programs on the developer platform; with what it holds already, this batch's %d do not fit",
		b.SubjectID, limit, mini)
}

// batchWrite is action 0: the batch AWAITING_CONFIRMATION -> COMMITTING.
func (s *Commits) batchWrite(tx *commitTx, b migration.Batch, deadline time.Time, at string) error {
	upd := expression.Set(expression.Name("state"), expression.Value(migration.Committing)).
		Set(expression.Name("updatedAt"), expression.Value(at)).
		Set(expression.Name("commitDeadline"), expression.Value(deadline.UTC().Format(time.RFC3339))).
		Set(expression.Name(attrGSI2PK), expression.Value(batchStatePK(migration.Committing))).
		Set(expression.Name(attrGSI2SK), expression.Value(at+"#"+b.MigrationID+"#"+b.BatchID)).
		Set(expression.Name("total"), expression.Value(tx.total)).
		Set(expression.Name("left"), expression.Value(tx.total))
	// The target must still be the one the caller read: a target changed in
	// between makes this confirmation stale. Nothing may have joined since
	// the read (Joins), or the count would miss it.
	cond := expression.Name("state").Equal(expression.Value(migration.AwaitingConfirmation)).
		And(expression.Name("targetAccountId").Equal(expression.Value(b.TargetAccountID)))
	if b.Joins == 0 {
		cond = cond.And(expression.AttributeNotExists(expression.Name("joins")))
	} else {
		cond = cond.And(expression.Name("joins").Equal(expression.Value(b.Joins)))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return err
	}
	tx.writes = append(tx.writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}})
	return nil
}

// targetWrite creates or binds the target account. brings is what an existing
// account bound to the subject for the first time already holds: it joins the
// subject's count in this transaction.
func (s *Commits) targetWrite(ctx context.Context, tx *commitTx, c migration.CommitStart) (brings int, err error) {
	b := c.Batch
	tx.targetAt = len(tx.writes)
	if c.NewAccount != nil {
		av, err := targetRecord(*c.NewAccount)
		if err != nil {
			return 0, err
		}
		nexpr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
		if err != nil {
			return 0, err
		}
		tx.writes = append(tx.writes, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av,
			ConditionExpression: nexpr.Condition(), ExpressionAttributeNames: nexpr.Names()}})
		return 0, nil
	}
	acct, err := s.targets.TargetAccount(ctx, b.TargetPlatform, b.TargetAccountID)
	if migration.IsCode(err, migration.CodeNotFound) {
		return 0, notEligible(b)
	} else if err != nil {
		return 0, err
	}
	if migration.CheckTarget(acct, b.Login, b.TargetPlatform, b.SubjectID) != nil {
		return 0, notEligible(b)
	}
	// The account as read, held by the condition: unbound, or bound to this
	// very subject (older records may say "personal").
	subject := expression.Name("subjectId")
	tcond := expression.Name("login").Equal(expression.Value(b.Login)).
		And(expression.Name("onboarding").In(expression.Value(migration.OnboardingApplied), expression.Value(migration.OnboardingCompleted)))
	if acct.SubjectID == "" {
		tcond = tcond.And(expression.AttributeNotExists(subject))
		if c.BindSubject != "" {
			brings = acct.MiniPrograms
		}
	} else {
		tcond = tcond.And(subject.Equal(expression.Value(acct.SubjectID)))
	}
	builder := expression.NewBuilder().WithCondition(tcond)
	if c.BindSubject != "" {
		builder = builder.WithUpdate(expression.Set(subject, expression.Value(c.BindSubject)))
	}
	texpr, err := builder.Build()
	if err != nil {
		return 0, err
	}
	tk := key(targetPK(b.TargetPlatform, b.TargetAccountID), metaSK)
	if c.BindSubject == "" {
		tx.writes = append(tx.writes, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: tk,
			ConditionExpression: texpr.Condition(), ExpressionAttributeNames: texpr.Names(), ExpressionAttributeValues: texpr.Values()}})
		return 0, nil
	}
	tx.writes = append(tx.writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: tk,
		UpdateExpression: texpr.Update(), ConditionExpression: texpr.Condition(),
		ExpressionAttributeNames: texpr.Names(), ExpressionAttributeValues: texpr.Values()}})
	return brings, nil
}

func notEligible(b migration.Batch) error {
	return migration.Errorf(migration.CodeTargetNotEligible, "account %s can no longer receive subject %s", b.TargetAccountID, b.SubjectID)
}

// maxAbsorbed bounds the holdings one commit absorbs (100 actions per
// transaction); any left over are absorbed by the subject's next commits.
const maxAbsorbed = 90

// quotaWrites adds the subject's counter update: the batch's mini-programs
// (as consistent reads found them), what a first-bound account brings, and
// what the subject's imported target accounts hold that the counter has not
// absorbed yet, each absorbed once (a marker put only if absent).
func (s *Commits) quotaWrites(ctx context.Context, tx *commitTx, c migration.CommitStart, brings int) error {
	if c.QuotaLimit <= 0 || c.BindSubject == "" {
		return nil
	}
	held, absorbed, err := s.holdings(ctx, c.BindSubject)
	if err != nil {
		return err
	}
	add := tx.mini + brings
	absent, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(held)) {
		if absorbed[id] || held[id] == 0 || len(tx.markers) >= maxAbsorbed {
			continue
		}
		tx.markers[len(tx.writes)] = true
		tx.writes = append(tx.writes, types.TransactWriteItem{Put: &types.Put{TableName: &s.table,
			Item: key(heldPK(c.BindSubject), absorbedPrefix+id), ConditionExpression: absent.Condition(), ExpressionAttributeNames: absent.Names()}})
		add += held[id]
	}
	if add == 0 {
		return nil
	}
	used := expression.Name("used")
	builder := expression.NewBuilder().WithUpdate(expression.Add(used, expression.Value(add)).Set(expression.Name("limit"), expression.Value(c.QuotaLimit)))
	if tx.mini > 0 {
		// Only a batch that brings mini-programs is held to the limit: what
		// the subject held before is counted, never refused.
		room := c.QuotaLimit - add
		if room < 0 {
			return quotaExceeded(c.Batch, c.QuotaLimit, tx.mini)
		}
		builder = builder.WithCondition(expression.AttributeNotExists(used).Or(used.LessThanEqual(expression.Value(room))))
	}
	qexpr, err := builder.Build()
	if err != nil {
		return err
	}
	tx.quotaAt = len(tx.writes)
	tx.writes = append(tx.writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(quotaPK(c.BindSubject), quotaSK),
		UpdateExpression: qexpr.Update(), ConditionExpression: qexpr.Condition(),
		ExpressionAttributeNames: qexpr.Names(), ExpressionAttributeValues: qexpr.Values()}})
	return nil
}

func targetRecord(t migration.TargetAccount) (map[string]types.AttributeValue, error) {
	return record(t, map[string]string{attrPK: targetPK(t.Platform, t.ID), attrSK: metaSK,
		attrGSI2PK: loginPK(t.Platform, t.Login), attrGSI2SK: "TARGET#" + t.ID})
}

// RecordReceipt stores sha on the committed batch with its audit event, in
// one transaction. The condition (COMMITTED, and another or no hash recorded)
// makes a second call with the same hash write nothing.
func (s *Commits) RecordReceipt(ctx context.Context, b migration.Batch, sha string, ev migration.AuditEvent) error {
	cond := expression.Name("state").Equal(expression.Value(migration.Committed)).
		And(expression.Or(expression.AttributeNotExists(expression.Name("receiptSha256")),
			expression.Name("receiptSha256").NotEqual(expression.Value(sha))))
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("receiptSha256"), expression.Value(sha))).
		WithCondition(cond).Build()
	if err != nil {
		return err
	}
	audit, err := s.auditPut(ev, auditSeq(ev)+"#"+sha[:16])
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, audit})
	if isAllConditionFailed(err) {
		return nil // this hash is recorded already (a concurrent or earlier call)
	}
	return err
}
