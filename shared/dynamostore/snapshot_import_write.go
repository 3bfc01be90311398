package dynamostore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/migration"
)

// Write adds a chunk of records the check found absent. Records that concern
// no migration (the bulk of a first import) go 25 a BatchWriteItem call; a
// record that meets a migration of its account goes alone, in one
// transaction with the batch it joins (or waits for, or follows),
// conditioned on what it read, and is decided again when that changed under
// it; a target account goes in its own conditional write.
//
// Why BatchWriteItem for the bulk although it takes no condition: a
// conditional put costs a transaction per 100 rows (in moto 0.5 s and
// growing with the table: a fifth of BatchWriteItem's rate; on AWS twice
// the write units), and the condition would only guard against another
// writer creating the same row between the check and the write. Only
// imports create these rows (the service moves and binds rows that exist),
// and the import lock (Lock) lets one import write at a time, so absent at
// the check is absent at the write, and a row a migration moved is never
// overwritten.
func (t importTable) Write(ctx context.Context, recs []migration.Record, k migration.Known) (importer.Written, error) {
	w := importer.Written{Added: map[string]int{}, Unchanged: map[string]int{}, Changed: map[string]int{}}
	for attempt := 0; len(recs) > 0; attempt++ {
		if attempt > 5 {
			return w, migration.Errorf(migration.CodeUnavailable, "import: %s kept changing under it; run the import again", recs[0].At)
		}
		again, err := t.writeOnce(ctx, recs, k, &w)
		if err != nil {
			return w, err
		}
		recs = again
	}
	return w, nil
}

// placedRecord is an item record with where it goes.
type placedRecord struct {
	rec migration.Record
	it  migration.Item
}

// writeOnce writes recs and returns those to decide again.
func (t importTable) writeOnce(ctx context.Context, recs []migration.Record, k migration.Known, w *importer.Written) ([]migration.Record, error) {
	fresh, claims, err := t.readNow(ctx, recs, k)
	if err != nil {
		return nil, err
	}
	kk := freshKnown{Known: k, assets: fresh}
	var plain []importRow
	var items []placedRecord
	for _, rec := range recs {
		switch rec.Type {
		case migration.RecTarget:
			if err := t.writeTarget(ctx, rec, w); err != nil {
				return nil, err
			}
		case migration.RecSubject, migration.RecAccount:
			rows, err := plainRows(rec, nil)
			if err != nil {
				return nil, err
			}
			plain = append(plain, rows...)
		default:
			it, _ := migration.PlaceRecord(rec, kk)
			items = append(items, placedRecord{rec, it})
		}
	}
	batches, err := t.activeBatches(ctx, claims)
	if err != nil {
		return nil, err
	}
	var again []migration.Record
	for _, p := range items {
		var b *migration.Batch
		if x, ok := batches[p.it.Holder+"\x00"+p.it.BatchKey]; ok {
			b = &x
		}
		arrival := migration.ArrivalOf(p.it, b)
		if arrival == migration.ArrivePlain {
			rows, err := plainRows(p.rec, &p.it)
			if err != nil {
				return nil, err
			}
			plain = append(plain, rows...)
			continue
		}
		retry, err := t.arrive(ctx, p, arrival, b, kk, w)
		if err != nil {
			return nil, err
		}
		if retry {
			again = append(again, p.rec)
		}
	}
	return again, t.s.putChecked(ctx, plain, w.Added)
}

// freshKnown answers assets from what was just read (data, orders and
// members follow their asset as it is now), the rest from the import.
type freshKnown struct {
	migration.Known
	assets map[string]migration.Item
}

func (f freshKnown) Asset(id string) (migration.Item, bool) {
	if it, ok := f.assets[id]; ok {
		return it, true
	}
	return f.Known.Asset(id)
}

// readNow reads, in one go, what the chunk's items depend on as it is now:
// the assets its data, orders and members belong to (an app imported a
// moment ago may have moved since) and the claims (active migrations) of
// the accounts the items are placed under.
func (t importTable) readNow(ctx context.Context, recs []migration.Record, k migration.Known) (assets map[string]migration.Item, claims map[string]string, err error) {
	var keys []map[string]types.AttributeValue
	for _, r := range recs {
		var id string
		switch r.Type {
		case migration.RecData:
			id = r.Data.AssetID
		case migration.RecOrder:
			id = r.Order.AssetID
		case migration.RecMember:
			id = r.Member.AssetID
		}
		if it, ok := k.Asset(id); ok && id != "" {
			keys = append(keys, key(itemPK(it.Type, id), metaSK))
		}
		if it, ok := migration.PlaceRecord(r, k); ok {
			if a, ok := accountOfHolder(it.Holder); ok && it.BatchKey != "" {
				keys = append(keys, key(activePK(a), metaSK))
			}
		}
	}
	assets, claims = map[string]migration.Item{}, map[string]string{}
	if len(keys) == 0 {
		return assets, claims, nil
	}
	rows, err := t.s.readKeys(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	for _, row := range rows {
		pk := stringAttr(row, attrPK)
		if strings.HasPrefix(pk, "ACTIVE#") {
			claims[pk] = stringAttr(row, "migrationId")
			continue
		}
		var it migration.Item
		if err := attributevalue.UnmarshalMap(row, &it); err != nil {
			return nil, nil, err
		}
		assets[it.ID] = it
	}
	return assets, claims, nil
}

// activeBatches reads the batches of the claimed accounts' migrations, by
// holder and batch key.
func (t importTable) activeBatches(ctx context.Context, claims map[string]string) (map[string]migration.Batch, error) {
	out := map[string]migration.Batch{}
	seen := map[string]bool{}
	for _, mid := range claims {
		if seen[mid] {
			continue
		}
		seen[mid] = true
		bs, err := t.s.records.Batches(ctx, mid)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			out[b.SourceHolder()+"\x00"+b.BatchKey] = b
		}
	}
	return out, nil
}

// arrive writes one item that meets a batch, in one transaction with it.
// retry reports a condition that changed since the read: decide again.
func (t importTable) arrive(ctx context.Context, p placedRecord, arrival migration.Arrival, b *migration.Batch, k migration.Known, w *importer.Written) (retry bool, err error) {
	it := p.it
	now := time.Now().UTC()
	var extra []types.TransactWriteItem
	switch arrival {
	case migration.ArriveWait:
		it.WaitsFor = b.BatchID
		cc, err := t.s.batchCheck(*b, expression.Name("state").In(expression.Value(migration.Committing), expression.Value(migration.Committed)))
		if err != nil {
			return false, err
		}
		extra = append(extra, cc)
	case migration.ArriveJoin:
		upd := expression.Add(expression.Name("joins"), expression.Value(1)).
			Add(expression.Name("total"), expression.Value(1)).
			Add(expression.Name("counts."+migration.CountsField(it.Type)), expression.Value(1))
		if it.Type != migration.ItemData && it.Type != migration.ItemOrder {
			// The point of no return reads these by key, whatever the index
			// says: an app may count against the quota. Data sets and orders
			// (unbounded in number, never counted against a quota) are found
			// through the index.
			upd = upd.Add(expression.Name("joined"), expression.Value(&types.AttributeValueMemberSS{Value: []string{it.Key()}}))
		}
		u, err := t.s.batchUpdate(*b, upd, stateIn([]migration.BatchState{migration.AwaitingAgreement, migration.AwaitingTarget, migration.AwaitingConfirmation}))
		if err != nil {
			return false, err
		}
		extra = append(extra, u)
	case migration.ArriveJoinMoving:
		upd := expression.Add(expression.Name("left"), expression.Value(1)).
			Add(expression.Name("total"), expression.Value(1)).
			Add(expression.Name("counts."+migration.CountsField(it.Type)), expression.Value(1))
		u, err := t.s.batchUpdate(*b, upd, expression.Name("state").Equal(expression.Value(migration.Committing)).And(expression.AttributeExists(expression.Name("left"))))
		if err != nil {
			return false, err
		}
		// Only while its asset is still at the source: once the move took
		// the asset, the record follows it instead.
		parent, _ := k.Asset(it.ParentID)
		pc, err := t.s.itemCheck(parent, expression.Name("holder").Equal(expression.Value(it.Holder)))
		if err != nil {
			return false, err
		}
		extra = append(extra, u, pc)
	case migration.ArriveFollow:
		it.MovedAt, it.LateArrival = now.Format(time.RFC3339Nano), true
		if it.MovedIn != "" {
			mb, err := t.s.records.Batch(ctx, it.MovedIn, it.MovedBy)
			if err != nil {
				return false, err
			}
			u, err := t.s.batchUpdate(mb, expression.Add(expression.Name("lateArrivals"), expression.Value(1)), expression.AttributeExists(expression.Name(attrPK)))
			if err != nil {
				return false, err
			}
			ev := migration.AuditEvent{At: migration.Stamp(now), Event: migration.EventLateArrival, Account: mb.Source.String(),
				MigrationID: mb.MigrationID, BatchID: mb.BatchID, BatchKey: mb.BatchKey,
				Detail: map[string]any{"type": string(it.Type), "id": it.ID, "assetId": it.ParentID, "targetAccountId": mb.TargetAccountID}}
			audit, err := t.s.auditPut(ev, auditSeq(ev)+"#"+it.Key())
			if err != nil {
				return false, err
			}
			extra = append(extra, u, audit)
		}
	}
	rows, err := plainRows(p.rec, &it)
	if err != nil {
		return false, err
	}
	put, err := putAbsentItem(t.s.table, rows[0].av)
	if err != nil {
		return false, err
	}
	err = t.s.transact(ctx, append([]types.TransactWriteItem{put}, extra...))
	if err == nil {
		w.Added[rows[0].kind]++
		return false, nil
	}
	failed := conditionFailures(err)
	if len(failed) == 0 {
		return false, cancelled(err, "the import")
	}
	if failed[0] {
		old, gerr := t.s.oldRow(ctx, err, rows[0])
		if gerr != nil {
			return false, gerr
		}
		if old == nil {
			return true, nil
		}
		if serr := sameSource(rows[0], old); serr != nil {
			return false, serr
		}
		w.Unchanged[rows[0].kind]++
		return false, nil
	}
	return true, nil // the batch or the asset changed since: decide again
}

func putAbsentItem(table string, av map[string]types.AttributeValue) (types.TransactWriteItem, error) {
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: av,
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}, nil
}

// batchUpdate is an update of a batch's row under cond.
func (s *SnapshotImport) batchUpdate(b migration.Batch, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, nil
}

// batchCheck holds a batch's row to cond.
func (s *SnapshotImport) batchCheck(b migration.Batch, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(migrationPK(b.MigrationID), batchSK(b.BatchID)),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, nil
}

// itemCheck holds an item's row to cond.
func (s *SnapshotImport) itemCheck(it migration.Item, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(itemPK(it.Type, it.ID), metaSK),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, nil
}

// oldRow is the row whose put failed first in a transaction: from the
// cancellation (ALL_OLD), else read again; nil when it is gone.
func (s *SnapshotImport) oldRow(ctx context.Context, err error, r importRow) (map[string]types.AttributeValue, error) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && tce.CancellationReasons[0].Item != nil {
		return tce.CancellationReasons[0].Item, nil
	}
	res, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: key(stringAttr(r.av, attrPK), stringAttr(r.av, attrSK))})
	if gerr != nil {
		return nil, storeErr(gerr)
	}
	return res.Item, nil
}

// writeTarget adds a target account, or applies its allowed change: the
// onboarding moving forward, the mini-programs it holds (and, when its
// holdings row exists, that row with it). Each is conditioned on the row
// as read.
func (t importTable) writeTarget(ctx context.Context, rec migration.Record, w *importer.Written) error {
	rows, err := plainRows(rec, nil)
	if err != nil {
		return err
	}
	for attempt := 0; attempt < 5; attempt++ {
		var cur migration.TargetAccount
		gerr := t.s.get(ctx, targetPK(rec.Target.Platform, rec.Target.ID), metaSK, &cur, "target account")
		if migration.IsCode(gerr, migration.CodeNotFound) {
			return t.s.putRows(ctx, rows, w)
		} else if gerr != nil {
			return gerr
		}
		j, err := t.Judge(ctx, []migration.Record{rec})
		if err != nil {
			return err
		}
		switch j[0].Verdict {
		case importer.Same:
			w.Unchanged["targetAccounts"]++
			return nil
		case importer.Different:
			return migration.Errorf(migration.CodeConflict, "%s %s: %s", rec.At, rec.ID(), j[0].Problem)
		}
		sum := stringAttr(rows[0].av, attrSource)
		var old map[string]types.AttributeValue
		if err := t.s.getRaw(ctx, targetPK(rec.Target.Platform, rec.Target.ID), &old); err != nil {
			return err
		}
		upd := expression.Set(expression.Name("onboarding"), expression.Value(rec.Target.Onboarding)).
			Set(expression.Name(attrSource), expression.Value(sum))
		if rec.Target.MiniPrograms > 0 {
			upd = upd.Set(expression.Name("miniprograms"), expression.Value(rec.Target.MiniPrograms))
		} else {
			upd = upd.Remove(expression.Name("miniprograms"))
		}
		cond := expression.Name(attrSource).Equal(expression.Value(stringAttr(old, attrSource))).
			And(expression.Name("onboarding").Equal(expression.Value(cur.Onboarding)))
		u, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
		if err != nil {
			return err
		}
		writes := []types.TransactWriteItem{{Update: &types.Update{TableName: &t.s.table, Key: key(targetPK(rec.Target.Platform, rec.Target.ID), metaSK),
			UpdateExpression: u.Update(), ConditionExpression: u.Condition(), ExpressionAttributeNames: u.Names(), ExpressionAttributeValues: u.Values()}}}
		if cur.Platform == migration.TargetDeveloper && cur.SubjectID != "" && cur.MiniPrograms != rec.Target.MiniPrograms {
			// What it holds counts against its subject's quota: the holdings
			// row follows (put: it may not exist yet).
			hr, err := record(struct {
				MiniPrograms int `dynamodbav:"miniprograms"`
			}{rec.Target.MiniPrograms}, map[string]string{attrPK: heldPK(cur.SubjectID), attrSK: heldPrefix + cur.ID})
			if err != nil {
				return err
			}
			writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: &t.s.table, Item: hr}})
		}
		err = t.s.transact(ctx, writes)
		if err == nil {
			w.Changed["targetAccounts"]++
			return nil
		}
		if len(conditionFailures(err)) == 0 {
			return cancelled(err, "the import")
		}
	}
	return migration.Errorf(migration.CodeUnavailable, "import: %s kept changing under it; run the import again", rec.At)
}

// getRaw reads a row as it is stored.
func (s *SnapshotImport) getRaw(ctx context.Context, pk string, out *map[string]types.AttributeValue) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, metaSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return storeErr(err)
	}
	*out = res.Item
	return nil
}

// putRows puts rows in transactions of up to 100, each only if its key is
// absent. A put whose key appeared since the check (a concurrent import)
// is compared: same content counts as unchanged, other content stops the
// import naming it; the rest of that transaction is retried.
func (s *SnapshotImport) putRows(ctx context.Context, rows []importRow, w *importer.Written) error {
	rep := ImportReport{Added: w.Added, Unchanged: w.Unchanged}
	for start := 0; start < len(rows); start += maxTransactItems {
		chunk := rows[start:min(start+maxTransactItems, len(rows))]
		for round := 0; len(chunk) > 0; round++ {
			if round > 8 {
				return migration.Errorf(migration.CodeUnavailable, "import: records kept changing under it; run the import again")
			}
			writes := make([]types.TransactWriteItem, len(chunk))
			for i, r := range chunk {
				put, err := putAbsentItem(s.table, r.av)
				if err != nil {
					return err
				}
				writes[i] = put
			}
			err := s.transact(ctx, writes)
			if err == nil {
				for _, r := range chunk {
					if r.kind != "" {
						rep.Added[r.kind]++
					}
				}
				break
			}
			var rerr error
			if chunk, rerr = s.recheck(ctx, chunk, err, &rep); rerr != nil {
				return rerr
			}
		}
	}
	return nil
}
