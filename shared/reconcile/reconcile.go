// Package reconcile checks the invariants the one-way migration must keep,
// over every record of the table at once. It is pure: the DynamoDB adapter
// reads the records (dynamostore.ScanRecords), this package only judges them,
// so each rule is testable with hand-built records.
package reconcile

import (
	"sort"
	"strings"
	"time"

	"github.com/devplatform/account-migration/shared/inventory"
	"github.com/devplatform/account-migration/shared/migration"
)

// What the check looks at is the store's inventory (shared/inventory),
// named here as the check's input.
type (
	Records    = inventory.Records
	Unreadable = inventory.Unreadable
	Quota      = inventory.Quota
)

// Kind names a broken invariant. Kinds are stable: alerts and runbooks match on them.
type Kind string

const (
	// An item has no holder, or one that is neither src:<platform>:<id> nor tgt:<platform>:<id>.
	ItemHolderMissing   Kind = "ITEM_HOLDER_MISSING"
	ItemHolderMalformed Kind = "ITEM_HOLDER_MALFORMED"
	// Two records claim the same item: it would have two holders.
	ItemDuplicate Kind = "ITEM_DUPLICATE"
	// An item on a new platform that no known batch moved there.
	ItemMovedByUnknownBatch Kind = "ITEM_MOVED_BY_UNKNOWN_BATCH"
	// An item on a new platform whose batch never passed the point of no return.
	ItemMovedBeforeCommit Kind = "ITEM_MOVED_BEFORE_COMMIT"
	// An item on a new platform, but not in the account its batch chose.
	ItemNotAtBatchTarget Kind = "ITEM_NOT_AT_BATCH_TARGET"
	// An item back on an old platform after a batch moved it (moves are one-way).
	ItemMovedBack Kind = "ITEM_MOVED_BACK"
	// An item whose index entry files it under another holder than its own:
	// a move would look for it in the wrong place (a hand edit, or a bug).
	ItemIndexMismatch Kind = "ITEM_INDEX_MISMATCH"
	// A COMMITTED batch whose progress counter or moved items do not add up to its total.
	BatchMovedMismatch Kind = "BATCH_MOVED_MISMATCH"
	BatchItemsMismatch Kind = "BATCH_ITEMS_MISMATCH"
	// A batch still COMMITTING after its commitDeadline (or without one).
	BatchCommitOverdue Kind = "BATCH_COMMIT_OVERDUE"
	// A state the batch reached has no audit event.
	AuditMissing Kind = "AUDIT_MISSING"
	// A subject holds more mini-programs than its quota allows.
	QuotaExceeded Kind = "QUOTA_EXCEEDED"
	// A record of a checked kind that could not be decoded.
	RecordUnreadable Kind = "RECORD_UNREADABLE"
)

// Violation is one broken invariant and the record it was found on.
type Violation struct {
	Kind   Kind   `json:"kind"`
	ID     string `json:"id"`
	Detail string `json:"detail"`
}

// Check judges records at time now (for commit deadlines). It reports every
// violation found, in a stable order.
func Check(r Records, now time.Time) Report {
	rep := Report{Checked: map[string]int{
		"items": len(r.Items), "batches": len(r.Batches), "auditEvents": len(r.Audit), "quotas": len(r.Quotas),
	}, Violations: []Violation{}}
	add := func(k Kind, id, detail string) {
		rep.Violations = append(rep.Violations, Violation{Kind: k, ID: id, Detail: detail})
	}

	batches := make(map[string]migration.Batch, len(r.Batches))
	for _, b := range r.Batches {
		batches[b.BatchID] = b
	}
	for _, u := range r.Unreadable {
		add(RecordUnreadable, u.Key, u.Error)
	}
	movedBy, late := checkItems(r.Items, r.IndexHolders, batches, add)
	checkBatches(r.Batches, movedBy, late, now, add)
	checkAudit(r.Batches, r.Audit, add)
	for _, q := range r.Quotas {
		if q.Limit > 0 && q.Used > q.Limit {
			add(QuotaExceeded, q.SubjectID, sprintf("subject holds %d mini-programs on developer; its limit is %d", q.Used, q.Limit))
		}
	}

	sort.SliceStable(rep.Violations, func(i, j int) bool {
		a, b := rep.Violations[i], rep.Violations[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.ID < b.ID
	})
	return rep
}

// checkItems applies the holder rules and counts the items each batch moved
// (movedBy) and the late arrivals that followed what it moved (late).
func checkItems(items []migration.Item, index map[string]string, batches map[string]migration.Batch, add func(Kind, string, string)) (movedBy, late map[string]int) {
	movedBy, late = map[string]int{}, map[string]int{}
	seen := map[string]bool{}
	for _, it := range items {
		id := it.Key()
		if seen[id] {
			add(ItemDuplicate, id, "more than one record holds this item")
			continue // judged (and counted) once
		}
		seen[id] = true
		if it.MovedBy != "" && it.LateArrival {
			late[it.MovedBy]++
		} else if it.MovedBy != "" {
			movedBy[it.MovedBy]++
		}
		if ih, ok := index[id]; ok && ih != it.Holder {
			add(ItemIndexMismatch, id, sprintf("held by %q but filed in the index under %q", it.Holder, ih))
		}
		side, ok := parseHolder(it.Holder)
		switch {
		case it.Holder == "":
			add(ItemHolderMissing, id, "item has no holder")
			continue
		case !ok:
			add(ItemHolderMalformed, id, sprintf("holder %q is neither src:<platform>:<account> nor tgt:<platform>:<account>", it.Holder))
			continue
		}
		if side == "src" {
			if it.MovedBy != "" {
				add(ItemMovedBack, id, sprintf("held by %s but moved by batch %s", it.Holder, it.MovedBy))
			}
			continue
		}
		b, known := batches[it.MovedBy]
		switch {
		case it.MovedBy == "" || !known:
			add(ItemMovedByUnknownBatch, id, sprintf("held by %s; movedBy %q is no known batch", it.Holder, it.MovedBy))
		case !b.State.PastPointOfNoReturn():
			add(ItemMovedBeforeCommit, id, sprintf("held by %s, moved by batch %s which is %s", it.Holder, b.BatchID, b.State))
		case b.TargetHolder() != it.Holder:
			add(ItemNotAtBatchTarget, id, sprintf("held by %s; batch %s moves to %s", it.Holder, b.BatchID, b.TargetHolder()))
		}
	}
	return movedBy, late
}

func checkBatches(bs []migration.Batch, movedBy, late map[string]int, now time.Time, add func(Kind, string, string)) {
	for _, b := range bs {
		id := b.MigrationID + "/" + b.BatchID
		if b.Moved > b.Total || (b.State == migration.Committed && b.Moved != b.Total) {
			add(BatchMovedMismatch, id, sprintf("%s batch counted %d moved of %d", b.State, b.Moved, b.Total))
		}
		if b.State == migration.Committed && movedBy[b.BatchID] != b.Total {
			add(BatchItemsMismatch, id, sprintf("COMMITTED batch lists %d items but %d carry movedBy=%s", b.Total, movedBy[b.BatchID], b.BatchID))
		}
		if late[b.BatchID] != b.LateArrivals {
			add(BatchItemsMismatch, id, sprintf("batch counts %d late arrivals but %d followed its items", b.LateArrivals, late[b.BatchID]))
		}
		if CommitOverdue(b, now) {
			d := "COMMITTING with no commitDeadline"
			if b.CommitDeadline != "" {
				d = sprintf("COMMITTING past its commitDeadline %s (moved %d of %d)", b.CommitDeadline, b.Moved, b.Total)
			}
			add(BatchCommitOverdue, id, d)
		}
	}
}

// CommitOverdue reports a batch still COMMITTING after its deadline: the
// workflow that moves it has stopped, and ops must resume it. A missing or
// unreadable deadline counts as overdue, so such a batch is never overlooked.
func CommitOverdue(b migration.Batch, now time.Time) bool {
	if b.State != migration.Committing {
		return false
	}
	dl, err := time.Parse(time.RFC3339, b.CommitDeadline)
	return err != nil || now.After(dl)
}

// checkAudit requires an audit event for every state a batch is known to have
// reached (rule 14). AWAITING_AGREEMENT is where every batch starts; the
// migration's own MIGRATION_STARTED event covers it.
func checkAudit(bs []migration.Batch, evs []migration.AuditEvent, add func(Kind, string, string)) {
	type key struct {
		mid, bid string
		to       migration.BatchState
	}
	have := map[key]bool{}
	for _, ev := range evs {
		if ev.BatchID != "" && ev.To != "" {
			have[key{ev.MigrationID, ev.BatchID, ev.To}] = true
		}
	}
	for _, b := range bs {
		for _, st := range Reached(b) {
			if !have[key{b.MigrationID, b.BatchID, st}] {
				add(AuditMissing, b.MigrationID+"/"+b.BatchID, sprintf("no audit event for the change to %s", st))
			}
		}
	}
}

// Reached lists the states after AWAITING_AGREEMENT a batch has passed
// through: on the happy path, every state up to the current one; for a FAILED
// or EXPIRED batch, what its recorded agreement and target prove, and the end.
func Reached(b migration.Batch) []migration.BatchState {
	path := []migration.BatchState{migration.AwaitingTarget, migration.AwaitingConfirmation, migration.Committing, migration.Committed}
	var out []migration.BatchState
	switch b.State {
	case migration.AwaitingAgreement:
		return nil
	case migration.Failed, migration.Expired:
		if b.Agreement != nil {
			out = append(out, migration.AwaitingTarget)
		}
		if b.Target != nil {
			out = append(out, migration.AwaitingConfirmation)
		}
		return append(out, b.State)
	}
	for _, st := range path {
		out = append(out, st)
		if st == b.State {
			return out
		}
	}
	return append(out[:0], b.State) // an unknown state: at least its own event
}

// parseHolder accepts src:<source platform>:<id> and tgt:<target platform>:<id>.
func parseHolder(h string) (side string, ok bool) {
	parts := strings.SplitN(h, ":", 3)
	if len(parts) != 3 || !migration.ValidID(parts[2]) {
		return "", false
	}
	switch parts[0] {
	case "src":
		if migration.SourcePlatform(parts[1]).Valid() {
			return "src", true
		}
	case "tgt":
		switch migration.TargetPlatform(parts[1]) {
		case migration.TargetDeveloper, migration.TargetPartner:
			return "tgt", true
		}
	}
	return "", false
}
