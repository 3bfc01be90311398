package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/migration"
)

// SnapshotImport loads old-platform snapshots into the table by the rules of
// every import (shared/importer): ImportTable and ImportLease are the
// table's side of an import (snapshot_import_table.go, _write.go, _lock.go,
// _lease.go); Import runs a whole snapshot in process. It reads the batches
// that arriving records meet through records.
type SnapshotImport struct {
	*base
	records *MigrationRecords
}

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
func (s *SnapshotImport) ImportSnapshot(ctx context.Context, snap *migration.Snapshot) error {
	_, err := s.Import(ctx, snap)
	return err
}

// Import loads a snapshot into a table that may already be live, by the
// rules of every import (shared/importer, the same code as opsctl import):
// it only adds; a record already there with the same source content is left
// as it is, whatever happened to it since (moved, bound), so nothing moves
// back; a record there with other content refuses the whole import, naming
// it, before anything is written. An import stopped half-way is finished by
// running it again.
func (s *SnapshotImport) Import(ctx context.Context, snap *migration.Snapshot) (ImportReport, error) {
	var refused []importer.Refusal
	sum, err := importer.Run(ctx, importer.SnapshotSource{Snap: snap}, s.ImportTable(),
		importer.Options{Refused: func(r importer.Refusal) { refused = append(refused, r) }})
	rep := ImportReport{Added: map[string]int{}, Unchanged: map[string]int{}}
	for list, c := range sum.ByType {
		if c.Added > 0 {
			rep.Added[list] = c.Added
		}
		if c.Unchanged > 0 {
			rep.Unchanged[list] = c.Unchanged
		}
	}
	if errors.Is(err, importer.ErrRefused) {
		return rep, RefusedError(refused)
	}
	return rep, err
}

// RefusedError is one error for the refused records: CONFLICT when the
// first is a record that exists with other content, INVALID_INPUT
// otherwise; its message names the first few.
func RefusedError(refused []importer.Refusal) error {
	code := migration.CodeInvalidInput
	if len(refused) > 0 && refused[0].Conflict {
		code = migration.CodeConflict
	}
	var names []string
	for i, r := range refused {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(refused)-5))
			break
		}
		names = append(names, r.String())
	}
	return migration.Errorf(code, "%s", strings.Join(names, "; "))
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

// recheck handles a cancelled import transaction: the rows whose condition
// failed exist now and are compared; the others are returned to retry.
func (s *SnapshotImport) recheck(ctx context.Context, chunk []importRow, err error, rep *ImportReport) ([]importRow, error) {
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
		if r.kind != "" {
			rep.Unchanged[r.kind]++
		}
	}
	return retry, nil
}
