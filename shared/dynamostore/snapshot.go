package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// attrSource holds the SHA-256 of the snapshot record a row was imported
// from. A re-import compares it, not the row: the service changes rows after
// the import (an item's holder, a target's subject).
const attrSource = "sourceSha256"

// ImportReport says what an import wrote: per kind of record ("apps",
// "targetAccounts", ...), how many rows it added and how many were there
// already with the same content (left as they are).
type ImportReport struct {
	Added     map[string]int `json:"added"`
	Unchanged map[string]int `json:"unchanged"`
}

// importRow is one row to import and the snapshot record it comes from.
type importRow struct {
	kind string // the snapshot's list: "apps"
	name string // "apps[3] app-7", for errors
	av   map[string]types.AttributeValue
}

func (r importRow) key() string {
	return stringAttr(r.av, attrPK) + "\x00" + stringAttr(r.av, attrSK)
}

// ImportSnapshot is Import without the report.
func (s *Store) ImportSnapshot(ctx context.Context, snap *migration.Snapshot) error {
	_, err := s.Import(ctx, snap)
	return err
}

// Import loads a validated snapshot into a table that may already be live. It
// only adds: a record already there with the same source content is left as
// it is, whatever happened to it since (moved, bound), so nothing moves back;
// a record there with other content refuses the whole import, naming it,
// before anything is written. Each row is put only if absent, so a concurrent
// writer is never overwritten either; an import stopped half-way (or one that
// met such a writer) is finished by running it again.
func (s *Store) Import(ctx context.Context, snap *migration.Snapshot) (ImportReport, error) {
	rep := ImportReport{Added: map[string]int{}, Unchanged: map[string]int{}}
	if err := snap.Validate(); err != nil {
		return rep, err
	}
	rows, err := importRows(snap)
	if err != nil {
		return rep, err
	}
	existing, err := s.readRows(ctx, rows)
	if err != nil {
		return rep, err
	}
	fresh := make([]importRow, 0, len(rows))
	for _, r := range rows {
		old, ok := existing[r.key()]
		if !ok {
			fresh = append(fresh, r)
			continue
		}
		if err := sameSource(r, old); err != nil {
			return rep, err
		}
		rep.Unchanged[r.kind]++
	}
	return rep, s.putAbsent(ctx, fresh, &rep)
}

// importRows builds every row of the snapshot, each stamped with the hash of
// the record it comes from.
func importRows(snap *migration.Snapshot) ([]importRow, error) {
	var rows []importRow
	add := func(kind string, i int, id string, rec any, v any, keys map[string]string) error {
		av, err := record(v, keys)
		if err != nil {
			return err
		}
		sum, err := sourceHash(rec)
		if err != nil {
			return err
		}
		av[attrSource] = &types.AttributeValueMemberS{Value: sum}
		rows = append(rows, importRow{kind: kind, name: fmt.Sprintf("%s[%d] %s", kind, i, id), av: av})
		return nil
	}
	for i, x := range snap.Subjects {
		if err := add("subjects", i, x.ID, x, x, map[string]string{attrPK: subjectPK(x.ID), attrSK: metaSK}); err != nil {
			return nil, err
		}
	}
	for i, x := range snap.Accounts {
		keys := map[string]string{attrPK: accountPK(migration.AccountRef{Platform: string(x.Platform), ID: x.ID}), attrSK: metaSK}
		if err := add("accounts", i, x.ID, x, x, keys); err != nil {
			return nil, err
		}
	}
	placed := map[string]migration.Item{}
	for _, it := range migration.Place(snap) {
		placed[it.Key()] = it
	}
	for _, src := range itemSources(snap) {
		it, ok := placed[migration.Item{Type: src.typ, ID: src.id}.Key()]
		if !ok {
			return nil, migration.Errorf(migration.CodeInternal, "%s[%d] %s was not placed", src.kind, src.i, src.id)
		}
		if err := add(src.kind, src.i, src.id, src.rec, it, itemKeys(it)); err != nil {
			return nil, err
		}
	}
	for i, t := range snap.TargetAccounts {
		av, err := targetRecord(t)
		if err != nil {
			return nil, err
		}
		sum, err := sourceHash(t)
		if err != nil {
			return nil, err
		}
		av[attrSource] = &types.AttributeValueMemberS{Value: sum}
		rows = append(rows, importRow{kind: "targetAccounts", name: fmt.Sprintf("targetAccounts[%d] %s", i, t.ID), av: av})
		// What it already holds counts against its subject's quota.
		hr, err := heldRow(t)
		if err != nil {
			return nil, err
		}
		if hr != nil {
			hr[attrSource] = &types.AttributeValueMemberS{Value: sum}
			rows = append(rows, importRow{kind: "heldMiniprograms", name: fmt.Sprintf("targetAccounts[%d] %s (mini-programs held)", i, t.ID), av: hr})
		}
	}
	return rows, nil
}

// itemSource is a snapshot record that becomes one item.
type itemSource struct {
	kind string
	i    int
	typ  migration.ItemType
	id   string
	rec  any
}

func itemSources(snap *migration.Snapshot) []itemSource {
	var out []itemSource
	for i, x := range snap.Identities {
		out = append(out, itemSource{"identities", i, migration.ItemIdentity, x.ID, x})
	}
	for i, x := range snap.Apps {
		out = append(out, itemSource{"apps", i, migration.ItemApp, x.ID, x})
	}
	for i, x := range snap.Services {
		out = append(out, itemSource{"services", i, migration.ItemService, x.ID, x})
	}
	for i, x := range snap.Members {
		out = append(out, itemSource{"members", i, migration.ItemMember, migration.MemberItemID(x.AssetID, x.AccountID), x})
	}
	for i, x := range snap.Data {
		out = append(out, itemSource{"data", i, migration.ItemData, x.ID, x})
	}
	for i, x := range snap.Orders {
		out = append(out, itemSource{"orders", i, migration.ItemOrder, x.ID, x})
	}
	return out
}

func itemKeys(it migration.Item) map[string]string {
	keys := map[string]string{attrPK: itemPK(it.Type, it.ID), attrSK: metaSK, attrGSI1PK: holdPK(it.Holder), attrGSI1SK: heldSK(it)}
	if it.Type == migration.ItemMember && it.AppHolder != "" {
		bk := it.AppBatchKey
		if bk == "" {
			bk = skippedKey
		}
		keys[attrGSI2PK], keys[attrGSI2SK] = followPK(it.AppHolder), bk+"#"+it.ID
	}
	return keys
}

// sourceHash is the SHA-256 of the record's JSON (the snapshot's own form).
func sourceHash(rec any) (string, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// serviceOwned reports the attributes the service itself changes after an
// import (a move, a binding); rows imported before attrSource existed are
// compared without them.
func serviceOwned(kind, name string) bool {
	switch name {
	case "holder", attrGSI1PK, "movedBy", "movedAt":
		return kind != "subjects" && kind != "accounts" && kind != "targetAccounts"
	case "subjectId":
		return kind == "targetAccounts"
	}
	return false
}

// sameSource reports (as a CONFLICT naming the record) a row that exists
// with other source content than the snapshot's record.
func sameSource(r importRow, old map[string]types.AttributeValue) error {
	differ := migration.Errorf(migration.CodeConflict, "%s: exists with other content", r.name)
	if sum, ok := old[attrSource]; ok {
		if !reflect.DeepEqual(sum, r.av[attrSource]) {
			return differ
		}
		return nil
	}
	// Imported before the hash: compare what the import wrote, leaving out
	// what the service may have changed since (a bound target's subject, a
	// moved item's holder), so those are taken as unchanged.
	for name, v := range r.av {
		if name == attrSource || serviceOwned(r.kind, name) {
			continue
		}
		if !reflect.DeepEqual(old[name], v) {
			return differ
		}
	}
	for name := range old {
		if _, ok := r.av[name]; !ok && !serviceOwned(r.kind, name) {
			return differ
		}
	}
	return nil
}

// batchGetLimit is BatchGetItem's limit of keys per call.
const batchGetLimit = 100

// readRows reads the rows that already exist among rows' keys, consistently.
func (s *Store) readRows(ctx context.Context, rows []importRow) (map[string]map[string]types.AttributeValue, error) {
	out := map[string]map[string]types.AttributeValue{}
	for start := 0; start < len(rows); start += batchGetLimit {
		var keys []map[string]types.AttributeValue
		seen := map[string]bool{}
		for _, r := range rows[start:min(start+batchGetLimit, len(rows))] {
			if !seen[r.key()] {
				seen[r.key()] = true
				keys = append(keys, key(stringAttr(r.av, attrPK), stringAttr(r.av, attrSK)))
			}
		}
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if err := backoff(ctx, attempt, "reading existing records"); err != nil {
				return nil, err
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, storeErr(err)
			}
			for _, row := range res.Responses[s.table] {
				out[stringAttr(row, attrPK)+"\x00"+stringAttr(row, attrSK)] = row
			}
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// backoff pauses before a retry of what DynamoDB left unprocessed, and gives
// up after a few.
func backoff(ctx context.Context, attempt int, what string) error {
	if attempt == 0 {
		return nil
	}
	if attempt > 8 {
		return migration.Errorf(migration.CodeUnavailable, "import: %s: DynamoDB kept part of it unprocessed; run the import again", what)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
		return nil
	}
}

// putAbsent writes rows in transactions of up to 100, each put only if its
// key is absent. A put whose key appeared since the read (a concurrent
// import, say) is checked again: same content counts as unchanged, other
// content stops the import naming it; the rest of that transaction is retried.
func (s *Store) putAbsent(ctx context.Context, rows []importRow, rep *ImportReport) error {
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return err
	}
	for start := 0; start < len(rows); start += maxTransactItems {
		chunk := rows[start:min(start+maxTransactItems, len(rows))]
		for round := 0; len(chunk) > 0; round++ {
			if round > 8 {
				return migration.Errorf(migration.CodeUnavailable, "import: records kept changing under it; run the import again")
			}
			writes := make([]types.TransactWriteItem, len(chunk))
			for i, r := range chunk {
				writes[i] = types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: r.av,
					ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(),
					ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
			}
			err := s.transact(ctx, writes)
			if err == nil {
				for _, r := range chunk {
					rep.Added[r.kind]++
				}
				break
			}
			if chunk, err = s.recheck(ctx, chunk, err, rep); err != nil {
				return err
			}
		}
	}
	return nil
}

// recheck handles a cancelled import transaction: the rows whose condition
// failed exist now and are compared; the others are returned to retry.
func (s *Store) recheck(ctx context.Context, chunk []importRow, err error, rep *ImportReport) ([]importRow, error) {
	failed := conditionFailures(err)
	if len(failed) == 0 {
		return nil, cancelled(err, "the import")
	}
	var reasons []types.CancellationReason
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		reasons = tce.CancellationReasons
	}
	var retry []importRow
	for i, r := range chunk {
		if !failed[i] {
			retry = append(retry, r)
			continue
		}
		var old map[string]types.AttributeValue
		if i < len(reasons) {
			old = reasons[i].Item
		}
		if old == nil {
			res, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
				Key: key(stringAttr(r.av, attrPK), stringAttr(r.av, attrSK))})
			if gerr != nil {
				return nil, storeErr(gerr)
			}
			old = res.Item
		}
		if old == nil {
			retry = append(retry, r) // gone again: try once more
			continue
		}
		if serr := sameSource(r, old); serr != nil {
			return nil, serr
		}
		rep.Unchanged[r.kind]++
	}
	return retry, nil
}
