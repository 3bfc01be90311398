package reliability

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// The invariant check over a full, consistent read of the table. It knows the
// table's key layout (shared/dynamostore/keys.go) and judges the records
// against the seed snapshot, so it trusts nothing the code under test
// reports about itself.
//
// Every table is also judged by shared/reconcile, the check ops run in
// production (reconciled below). This one is stricter where a test can be: it
// compares against the seed, so it also sees an item that vanished, appeared
// or went to a batch that was not its own, quota reserved twice, and a second
// point of no return.

// tableState is the table read back, record kinds apart.
type tableState struct {
	items      map[string]migration.Item // by type#id
	batches    map[string]migration.Batch
	migrations map[string]migration.Migration
	audit      []migration.AuditEvent
	quota      map[string]quotaRecord // by subject
	targets    map[string]migration.TargetAccount
	active     map[string]string // account -> migration still claiming it
}

type quotaRecord struct {
	Used  int `dynamodbav:"used"`
	Limit int `dynamodbav:"limit"`
}

func readTable(ctx context.Context, db *dynamodb.Client, table string) (*tableState, error) {
	st := &tableState{items: map[string]migration.Item{}, batches: map[string]migration.Batch{}, migrations: map[string]migration.Migration{},
		quota: map[string]quotaRecord{}, targets: map[string]migration.TargetAccount{}, active: map[string]string{}}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, row := range page.Items {
			if err := st.add(row); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func (st *tableState) add(row map[string]types.AttributeValue) error {
	pk, sk := str(row["pk"]), str(row["sk"])
	switch {
	case strings.HasPrefix(pk, "ITEM#"):
		var it migration.Item
		if err := attributevalue.UnmarshalMap(row, &it); err != nil {
			return err
		}
		if _, dup := st.items[it.Key()]; dup {
			return fmt.Errorf("item %s stored twice", it.Key())
		}
		st.items[it.Key()] = it
	case strings.HasPrefix(pk, "MIGRATION#") && strings.HasPrefix(sk, "BATCH#"):
		var b migration.Batch
		if err := attributevalue.UnmarshalMap(row, &b); err != nil {
			return err
		}
		st.batches[b.BatchID] = b
	case strings.HasPrefix(pk, "MIGRATION#"):
		var m migration.Migration
		if err := attributevalue.UnmarshalMap(row, &m); err != nil {
			return err
		}
		st.migrations[m.MigrationID] = m
	case strings.HasPrefix(pk, "AUDIT#"):
		var ev migration.AuditEvent
		if err := attributevalue.UnmarshalMap(row, &ev); err != nil {
			return err
		}
		st.audit = append(st.audit, ev)
	case strings.HasPrefix(pk, "QUOTA#"):
		var q quotaRecord
		if err := attributevalue.UnmarshalMap(row, &q); err != nil {
			return err
		}
		st.quota[strings.TrimPrefix(pk, "QUOTA#")] = q
	case strings.HasPrefix(pk, "TARGET#"):
		var t migration.TargetAccount
		if err := attributevalue.UnmarshalMap(row, &t); err != nil {
			return err
		}
		st.targets[migration.TargetHolder(t.Platform, t.ID)] = t
	case strings.HasPrefix(pk, "ACTIVE#"):
		st.active[strings.TrimPrefix(pk, "ACTIVE#")] = str(row["migrationId"])
	}
	return nil
}

func str(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// reconciled runs the production reconciliation check over the table and
// returns its violations, as text.
func reconciled(ctx context.Context, db *dynamodb.Client, table string) ([]string, error) {
	recs, err := dynamostore.ScanRecords(ctx, db, table, 1)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range reconcile.Check(recs.Records, time.Now()).Violations {
		out = append(out, fmt.Sprintf("reconcile %s %s: %s", v.Kind, v.ID, v.Detail))
	}
	return out, nil
}

// verdict is the outcome of the check.
type verdict struct {
	Assets     int // movable items seeded (certified, in a batch)
	Skipped    int // items seeded that must never move
	Moved      int // items now held by a target account
	Lost       int // seeded items missing, misplaced, or left behind by a COMMITTED batch
	Duplicated int // items that appeared from nowhere, or were counted or reserved twice
	Batches    map[migration.BatchState]int
	Violations []string
}

func (v *verdict) fail(kind *int, format string, args ...any) {
	if kind != nil {
		*kind++
	}
	if len(v.Violations) < 50 {
		v.Violations = append(v.Violations, fmt.Sprintf(format, args...))
	}
}

// merge adds another table's verdict.
func (v *verdict) merge(o verdict, table string) {
	v.Assets += o.Assets
	v.Skipped += o.Skipped
	v.Moved += o.Moved
	v.Lost += o.Lost
	v.Duplicated += o.Duplicated
	if v.Batches == nil {
		v.Batches = map[migration.BatchState]int{}
	}
	for s, n := range o.Batches {
		v.Batches[s] += n
	}
	for _, s := range o.Violations {
		if len(v.Violations) < 100 {
			v.Violations = append(v.Violations, table+": "+s)
		}
	}
}

// check judges the table against the seed. settled says every migration was
// driven to its end, so no batch may still wait or move and no account may
// still be claimed.
func check(seed *migration.Snapshot, st *tableState, settled bool) verdict {
	v := verdict{Batches: map[migration.BatchState]int{}}
	placed := migration.Place(seed)
	home := map[string]migration.Item{}
	for _, it := range placed {
		home[it.Key()] = it
		if it.Skip != "" || it.BatchKey == "" {
			v.Skipped++
		} else {
			v.Assets++
		}
	}
	subjects := map[string]migration.Subject{}
	for _, s := range seed.Subjects {
		subjects[s.ID] = s
	}

	// 1. Every seeded item is there once, where the rules allow.
	movedBy := map[string]int{}
	for key, it := range st.items {
		seeded, ok := home[key]
		if !ok {
			v.fail(&v.Duplicated, "item %s was never seeded", key)
			continue
		}
		if it.Holder == seeded.Holder {
			if it.MovedBy != "" {
				v.fail(&v.Lost, "item %s is back at its source but says it was moved by %s", key, it.MovedBy)
			}
			continue
		}
		if seeded.Skip != "" {
			v.fail(&v.Lost, "skipped item %s (%s) moved to %s", key, seeded.Skip, it.Holder)
			continue
		}
		b, ok := st.batches[it.MovedBy]
		switch {
		case !ok:
			v.fail(&v.Lost, "item %s is at %s, moved by unknown batch %q", key, it.Holder, it.MovedBy)
		case !b.State.PastPointOfNoReturn():
			v.fail(&v.Lost, "item %s moved by batch %s, which is %s", key, b.BatchID, b.State)
		case b.SourceHolder() != seeded.Holder || b.BatchKey != seeded.BatchKey:
			v.fail(&v.Lost, "item %s of %s/%s moved by batch %s of %s/%s", key, seeded.Holder, seeded.BatchKey, b.BatchID, b.SourceHolder(), b.BatchKey)
		case it.Holder != b.TargetHolder():
			v.fail(&v.Lost, "item %s is at %s, its batch %s went to %s", key, it.Holder, b.BatchID, b.TargetHolder())
		default:
			movedBy[b.BatchID]++
			v.Moved++
		}
	}
	for key := range home {
		if _, ok := st.items[key]; !ok {
			v.fail(&v.Lost, "item %s is gone", key)
		}
	}

	// 2. Batches: a committed one moved all it counted, once; an ended one nothing.
	leftAtSource := map[string]int{} // holder|batchKey -> items still there
	for key, it := range st.items {
		if s := home[key]; s.Skip == "" && it.Holder == s.Holder {
			leftAtSource[s.Holder+"|"+s.BatchKey]++
		}
	}
	reserved := map[string]int{}
	for id, b := range st.batches {
		v.Batches[b.State]++
		n := movedBy[id]
		switch b.State {
		case migration.Committed:
			if b.Moved > b.Total || n > b.Total {
				v.fail(&v.Duplicated, "batch %s counts %d moved, %d items say so, of %d", id, b.Moved, n, b.Total)
			}
			if b.Moved != b.Total || n != b.Total {
				v.fail(&v.Lost, "batch %s COMMITTED with moved=%d, %d items at its target, total=%d", id, b.Moved, n, b.Total)
			}
			if left := leftAtSource[b.SourceHolder()+"|"+b.BatchKey]; left > 0 {
				v.fail(&v.Lost, "batch %s COMMITTED but %d of its items are still at %s", id, left, b.SourceHolder())
			}
		case migration.Failed, migration.Expired:
			if b.Moved != 0 || n != 0 {
				v.fail(&v.Lost, "batch %s is %s but moved %d (%d items say so)", id, b.State, b.Moved, n)
			}
		default:
			if settled {
				v.fail(nil, "batch %s of a settled run is still %s (moved %d of %d)", id, b.State, b.Moved, b.Total)
			}
		}
		if b.State.PastPointOfNoReturn() {
			if b.TargetPlatform == migration.TargetDeveloper && b.MiniPrograms > 0 {
				reserved[b.SubjectID] += b.MiniPrograms
			}
			if t, ok := st.targets[b.TargetHolder()]; !ok {
				v.fail(&v.Lost, "batch %s went to %s, which does not exist", id, b.TargetHolder())
			} else if bound := b.SubjectID != migration.PersonalSubject && subjects[b.SubjectID].Certified; t.SubjectID != b.SubjectID && (bound || t.SubjectID != "") {
				// A personal or uncertified batch binds no subject (docs/CONTRACT.md §4).
				v.fail(nil, "batch %s of subject %s went to %s, which holds subject %q (rule 3)", id, b.SubjectID, b.TargetHolder(), t.SubjectID)
			}
		}
	}

	// 3. Quota (rule 12): reserved once per committed batch, never above the limit.
	for subject, q := range st.quota {
		limit := migration.MiniProgramQuota(subjects[subject].Kind)
		if q.Used > limit || q.Limit != limit {
			v.fail(nil, "subject %s: quota used %d, limit %d recorded, %d allowed", subject, q.Used, q.Limit, limit)
		}
		if q.Used > reserved[subject] {
			v.fail(&v.Duplicated, "subject %s: quota used %d but its committed batches bring %d", subject, q.Used, reserved[subject])
		}
	}
	for subject, n := range reserved {
		if st.quota[subject].Used < n {
			v.fail(nil, "subject %s: committed batches bring %d mini-programs, quota counts %d", subject, n, st.quota[subject].Used)
		}
	}
	miniAt := map[string]int{} // subject -> mini-programs held on developer
	for _, it := range st.items {
		if it.IsMiniProgram() && strings.HasPrefix(it.Holder, "tgt:developer:") {
			miniAt[it.SubjectID]++
		}
	}
	for subject, n := range miniAt {
		if limit := migration.MiniProgramQuota(subjects[subject].Kind); n > limit {
			v.fail(nil, "subject %s holds %d mini-programs on developer, quota %d", subject, n, limit)
		}
	}

	// 4. Audit: one point of no return per batch that passed it, none otherwise;
	// one acceptance per batch that has one, whoever recorded it (the
	// developer, ops, or both racing).
	started, committed, accepted := map[string]int{}, map[string]int{}, map[string]int{}
	for _, ev := range st.audit {
		switch ev.Event {
		case migration.EventAgreementAccepted:
			accepted[ev.BatchID]++
		case migration.EventCommitStarted:
			started[ev.BatchID]++
		case migration.EventBatchCommitted:
			committed[ev.BatchID]++
		}
	}
	for id, b := range st.batches {
		want := map[bool]int{true: 1, false: 0}
		if got := started[id]; got != want[b.State.PastPointOfNoReturn()] {
			v.fail(nil, "batch %s (%s) has %d COMMIT_STARTED events", id, b.State, got)
		}
		if got := committed[id]; got != want[b.State == migration.Committed] {
			v.fail(nil, "batch %s (%s) has %d BATCH_COMMITTED events", id, b.State, got)
		}
		if got := accepted[id]; got != want[b.Agreement != nil] {
			v.fail(&v.Duplicated, "batch %s (%s, agreement %v) has %d AGREEMENT_ACCEPTED events", id, b.State, b.Agreement != nil, got)
		}
	}

	// 5. A settled run leaves no account claimed by a migration.
	if settled {
		for acct, id := range st.active {
			v.fail(nil, "account %s is still claimed by migration %s", acct, id)
		}
	}
	sort.Strings(v.Violations)
	return v
}
