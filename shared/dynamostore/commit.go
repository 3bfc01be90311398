package dynamostore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

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
func (s *Store) PassPointOfNoReturn(ctx context.Context, c migration.CommitStart) error {
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
}

func (s *Store) passOnce(ctx context.Context, c migration.CommitStart) error {
	b := c.Batch
	left, mini, err := s.stillHeld(ctx, b)
	if err != nil {
		return err
	}
	if !left {
		return migration.Errorf(migration.CodeNothingToMove, "nothing of batch %s is left at its source: it moved with another migration", b.BatchKey)
	}
	tx := &commitTx{quotaAt: -1, markers: map[int]bool{}, mini: mini}
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
	ev.Detail = map[string]any{"miniPrograms": mini}
	for k, v := range c.Audit.Detail {
		ev.Detail[k] = v
	}
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
func (s *Store) batchWrite(tx *commitTx, b migration.Batch, deadline time.Time, at string) error {
	upd := expression.Set(expression.Name("state"), expression.Value(migration.Committing)).
		Set(expression.Name("updatedAt"), expression.Value(at)).
		Set(expression.Name("commitDeadline"), expression.Value(deadline.UTC().Format(time.RFC3339))).
		Set(expression.Name(attrGSI2PK), expression.Value(batchStatePK(migration.Committing))).
		Set(expression.Name(attrGSI2SK), expression.Value(at+"#"+b.MigrationID+"#"+b.BatchID))
	// The target must still be the one the caller read: a target changed in
	// between makes this confirmation stale.
	cond := expression.Name("state").Equal(expression.Value(migration.AwaitingConfirmation)).
		And(expression.Name("targetAccountId").Equal(expression.Value(b.TargetAccountID)))
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
func (s *Store) targetWrite(ctx context.Context, tx *commitTx, c migration.CommitStart) (brings int, err error) {
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
	acct, err := s.TargetAccount(ctx, b.TargetPlatform, b.TargetAccountID)
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
func (s *Store) quotaWrites(ctx context.Context, tx *commitTx, c migration.CommitStart, brings int) error {
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

func (s *Store) holdings(ctx context.Context, subjectID string) (held map[string]int, absorbed map[string]bool, err error) {
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

// stillHeld reads, consistently, what of the batch its source still holds:
// the mini-programs it brings, and whether anything at all is left. The
// index only proposes candidates (it may lag and list an item that moved a
// moment ago; an item's type and kind never change, so the index may say
// which are mini-programs); each item's own record decides. Mini-programs
// are read in full (a subject holds at most 10); of the rest, the first item
// still held is enough.
func (s *Store) stillHeld(ctx context.Context, b migration.Batch) (left bool, mini int, err error) {
	src := b.SourceHolder()
	held := func(it migration.Item) bool { return it.Holder == src && it.BatchKey == b.BatchKey && it.Skip == "" }
	if len(b.Probe) > 0 {
		// The batch's own probe: every mini-program it was planned with and a
		// few other items; no index query (in moto, one costs seconds on a
		// large table).
		keys := make([]map[string]types.AttributeValue, len(b.Probe))
		for i, k := range b.Probe {
			keys[i] = key("ITEM#"+k, metaSK)
		}
		err := s.readEach(ctx, keys, func(it migration.Item) bool {
			if held(it) {
				left = true
				if it.IsMiniProgram() {
					mini++
				}
			}
			return true
		})
		if err != nil || left || b.Total <= len(b.Probe) {
			return left, mini, err
		}
	}
	// Apps first: they hold every mini-program, and one app still held is
	// enough to know the batch is not empty.
	minis, apps, err := s.indexed(ctx, src, batchPrefix(b.BatchKey)+string(migration.ItemApp)+"#")
	if err != nil {
		return false, 0, err
	}
	err = s.readEach(ctx, minis, func(it migration.Item) bool {
		if held(it) && it.IsMiniProgram() {
			mini++
		}
		return true
	})
	if err != nil || mini > 0 {
		return mini > 0, mini, err
	}
	check := func(it migration.Item) bool {
		left = held(it)
		return !left
	}
	if err := s.readEach(ctx, apps, check); err != nil || left {
		return left, 0, err
	}
	// No app left: any other item of the batch, a page at a time.
	_, rest, err := s.indexed(ctx, src, batchPrefix(b.BatchKey))
	if err != nil {
		return false, 0, err
	}
	return left, 0, s.readEach(ctx, rest, check)
}

// indexed lists the keys the index files under holder and prefix: the
// mini-programs apart (an item's type and kind never change, so the lagging
// index may say which they are).
func (s *Store) indexed(ctx context.Context, holder, prefix string) (minis, others []map[string]types.AttributeValue, err error) {
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

// readEach reads the records of keys consistently, 100 at a time
// (BatchGetItem's limit), and hands each item to each until it returns false.
func (s *Store) readEach(ctx context.Context, keys []map[string]types.AttributeValue, each func(migration.Item) bool) error {
	for start := 0; start < len(keys); start += 100 {
		rows, err := s.batchGet(ctx, keys[start:min(start+100, len(keys))])
		if err != nil {
			return err
		}
		for _, row := range rows {
			var it migration.Item
			if err := attributevalue.UnmarshalMap(row, &it); err != nil {
				return err
			}
			if !each(it) {
				return nil
			}
		}
	}
	return nil
}

// batchGet reads up to 100 records consistently, asking again for what
// DynamoDB leaves unprocessed, with a growing pause.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	pending := keys
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 8 {
			return nil, migration.Errorf(migration.CodeUnavailable, "%d reads left unprocessed; try again", len(pending))
		}
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
			}
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: pending, ConsistentRead: aws.Bool(true)}}})
		if err != nil {
			return nil, storeErr(err)
		}
		out = append(out, res.Responses[s.table]...)
		pending = res.UnprocessedKeys[s.table].Keys
	}
	return out, nil
}

func targetRecord(t migration.TargetAccount) (map[string]types.AttributeValue, error) {
	return record(t, map[string]string{attrPK: targetPK(t.Platform, t.ID), attrSK: metaSK,
		attrGSI2PK: loginPK(t.Platform, t.Login), attrGSI2SK: "TARGET#" + t.ID})
}

// MoveChunk moves up to max of the batch's remaining items to its target:
// one query finds them, then transactions of at most 99 items each move them,
// each with the batch's progress counter (<= 100 actions, DynamoDB's limit),
// so the counter never disagrees with what moved. max <= 99 is one
// transaction; more amortises the query over several (BENCHMARKS.md: in moto
// a query of 99 items costs a third of a transaction; in DynamoDB it is a
// round trip). A page may come back shorter than max (1 MB read): the next
// call carries on.
//
// Each move applies only while the source still holds the item, so an item
// moves once whatever retries, crashes or concurrent movers do. The index
// (GSI) may lag and still list an item this batch already moved; such items
// are recognised by movedBy and dropped, and the rest is tried again. An item
// held by anyone else is an ASSET_CONFLICT: nothing more moves.
func (s *Store) MoveChunk(ctx context.Context, b migration.Batch, max int, now time.Time) (int, bool, error) {
	if max <= 0 {
		max = maxTransactItems - 1
	}
	// The query reads each item's key alone: the moves need nothing else,
	// and a lighter page is cheaper to read (and, in moto, to build).
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(holdPK(b.SourceHolder()))).
		And(expression.Key(attrGSI1SK).BeginsWith(batchPrefix(b.BatchKey)))
	qexpr, err := expression.NewBuilder().WithKeyCondition(kc).WithProjection(expression.NamesList(expression.Name(attrPK))).Build()
	if err != nil {
		return 0, false, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(indexHeld),
		KeyConditionExpression: qexpr.KeyCondition(), ProjectionExpression: qexpr.Projection(),
		ExpressionAttributeNames: qexpr.Names(), ExpressionAttributeValues: qexpr.Values(), Limit: aws.Int32(int32(max))})
	if err != nil {
		return 0, false, storeErr(err)
	}
	keys := make([]string, 0, len(res.Items))
	for _, row := range res.Items {
		pk, ok := row[attrPK].(*types.AttributeValueMemberS)
		if !ok {
			return 0, false, migration.Errorf(migration.CodeInternal, "a record of %s has no key", holdPK(b.SourceHolder()))
		}
		keys = append(keys, pk.Value)
	}
	last := len(res.LastEvaluatedKey) == 0 && len(keys) < max

	// Every item of the call gets the same change under the same condition.
	src, dst := b.SourceHolder(), b.TargetHolder()
	upd := expression.Set(expression.Name("holder"), expression.Value(dst)).
		Set(expression.Name(attrGSI1PK), expression.Value(holdPK(dst))).
		Set(expression.Name("movedBy"), expression.Value(b.BatchID)).
		Set(expression.Name("movedAt"), expression.Value(now.UTC().Format(time.RFC3339Nano)))
	move, err := expression.NewBuilder().WithUpdate(upd).WithCondition(expression.Name("holder").Equal(expression.Value(src))).Build()
	if err != nil {
		return 0, false, err
	}
	per := min(max, maxTransactItems-1)
	moved := 0
	for start := 0; start < len(keys); start += per {
		if err := ctx.Err(); err != nil {
			return moved, false, err
		}
		n, committed, err := s.moveItems(ctx, b, keys[start:min(start+per, len(keys))], move)
		moved += n
		if err != nil || committed {
			return moved, committed, err
		}
	}
	// An empty page, or one whose items had all moved already: the next call
	// looks again.
	return moved, last, nil
}

// moveItems is one of MoveChunk's transactions: the items with these keys
// (<= 99) and the progress counter. committed reports a batch that another
// mover finished.
func (s *Store) moveItems(ctx context.Context, b migration.Batch, keys []string, move expression.Expression) (moved int, committed bool, err error) {
	dst := b.TargetHolder()
	for len(keys) > 0 {
		writes := make([]types.TransactWriteItem, 0, len(keys)+1)
		for _, pk := range keys {
			writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, metaSK),
				UpdateExpression: move.Update(), ConditionExpression: move.Condition(), ExpressionAttributeNames: move.Names(),
				ExpressionAttributeValues: move.Values(), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}})
		}
		pexpr, err := expression.NewBuilder().WithUpdate(expression.Add(expression.Name("moved"), expression.Value(len(keys)))).
			WithCondition(expression.Name("state").Equal(expression.Value(migration.Committing))).Build()
		if err != nil {
			return 0, false, err
		}
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
			UpdateExpression: pexpr.Update(), ConditionExpression: pexpr.Condition(), ExpressionAttributeNames: pexpr.Names(),
			ExpressionAttributeValues: pexpr.Values()}})

		err = s.transact(ctx, writes)
		if err == nil {
			return len(keys), false, nil
		}
		failed := conditionFailures(err)
		if len(failed) == 0 {
			return 0, false, cancelled(err, "moving a chunk")
		}
		if failed[len(keys)] {
			cur, rerr := s.Batch(ctx, b.MigrationID, b.BatchID)
			if rerr != nil {
				return 0, false, rerr
			}
			if cur.State == migration.Committed {
				return 0, true, nil
			}
			return 0, false, migration.Errorf(migration.CodeWrongStep, "batch is %s, not COMMITTING", cur.State)
		}
		// The cancellation carries each failed item as it was (ALL_OLD); read
		// it again only when it does not.
		var old []types.CancellationReason
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			old = tce.CancellationReasons
		}
		keep := keys[:0:0]
		for i, pk := range keys {
			if !failed[i] {
				keep = append(keep, pk)
				continue
			}
			name := strings.TrimPrefix(pk, "ITEM#") // <type>#<id>, as Item.Key
			var cur migration.Item
			if i < len(old) && old[i].Item != nil {
				if uerr := attributevalue.UnmarshalMap(old[i].Item, &cur); uerr != nil {
					return 0, false, uerr
				}
			} else if gerr := s.get(ctx, pk, metaSK, &cur, "item "+name); gerr != nil {
				return 0, false, gerr
			}
			if cur.Holder == dst && cur.MovedBy == b.BatchID {
				continue // moved by this batch already; the index had not caught up
			}
			return 0, false, &migration.Error{Code: migration.CodeAssetConflict,
				Message: "item " + name + " is held by " + cur.Holder + ", not by the batch's source", Err: err}
		}
		keys = keep
	}
	return 0, false, nil
}
