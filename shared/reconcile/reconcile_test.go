package reconcile

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

var src = migration.AccountRef{Platform: "microapp", ID: "ma-1"}

// clean is a table in good order: one batch COMMITTED (two items moved), one
// COMMITTING within its deadline (one of two moved), one FAILED after its
// agreement, one still waiting for the agreement, and a quota within its limit.
func clean() Records {
	acc := &migration.Acceptance{Version: "v", SHA256: "s", AcceptedBy: "microapp:ma-1", Channel: "developer"}
	tgt := &migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"}
	done := migration.Batch{MigrationID: "m-1", BatchID: "b-done", BatchKey: "subj-a/developer", Source: src,
		TargetPlatform: migration.TargetDeveloper, TargetAccountID: "dev-1", State: migration.Committed,
		Agreement: acc, Target: tgt, Total: 2, Moved: 2, CommitDeadline: now.Add(-time.Hour).Format(time.RFC3339)}
	moving := migration.Batch{MigrationID: "m-1", BatchID: "b-moving", BatchKey: "subj-b/partner", Source: src,
		TargetPlatform: migration.TargetPartner, TargetAccountID: "par-1", State: migration.Committing,
		Agreement: acc, Target: &migration.Target{Mode: migration.TargetModeNew}, Total: 2, Moved: 1,
		CommitDeadline: now.Add(time.Hour).Format(time.RFC3339)}
	failed := migration.Batch{MigrationID: "m-1", BatchID: "b-failed", BatchKey: "subj-c/developer", Source: src,
		TargetPlatform: migration.TargetDeveloper, State: migration.Failed, Agreement: acc,
		Error: &migration.BatchError{Code: migration.CodeQuotaExceeded, Message: "too many"}}
	waiting := migration.Batch{MigrationID: "m-2", BatchID: "b-wait", BatchKey: "subj-d/developer",
		Source: migration.AccountRef{Platform: "third_party", ID: "tp-1"}, TargetPlatform: migration.TargetDeveloper,
		State: migration.AwaitingAgreement, Total: 1}

	ev := func(b migration.Batch, event string, to migration.BatchState) migration.AuditEvent {
		return migration.AuditEvent{At: "2026-11-20T10:00:00Z", Event: event, Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID, To: to}
	}
	var audit []migration.AuditEvent
	for _, b := range []migration.Batch{done, moving} {
		audit = append(audit, ev(b, migration.EventAgreementAccepted, migration.AwaitingTarget),
			ev(b, migration.EventTargetSelected, migration.AwaitingConfirmation),
			ev(b, migration.EventCommitStarted, migration.Committing))
	}
	audit = append(audit, ev(done, migration.EventBatchCommitted, migration.Committed),
		ev(failed, migration.EventAgreementAccepted, migration.AwaitingTarget),
		ev(failed, migration.EventBatchFailed, migration.Failed),
		migration.AuditEvent{At: "2026-11-20T09:00:00Z", Event: migration.EventMigrationStarted, Account: src.String(), MigrationID: "m-1"})

	return Records{
		Items: []migration.Item{
			{Type: migration.ItemApp, ID: "app-1", Holder: "tgt:developer:dev-1", MovedBy: "b-done"},
			{Type: migration.ItemData, ID: "ds-1", Holder: "tgt:developer:dev-1", MovedBy: "b-done"},
			{Type: migration.ItemService, ID: "svc-1", Holder: "tgt:partner:par-1", MovedBy: "b-moving"},
			{Type: migration.ItemService, ID: "svc-2", Holder: "src:microapp:ma-1", BatchKey: "subj-b/partner"},
			{Type: migration.ItemApp, ID: "app-9", Holder: "src:third_party:tp-1", BatchKey: "subj-d/developer"},
			{Type: migration.ItemApp, ID: "app-skipped", Holder: "src:microapp:ma-1", Skip: migration.SkipUncertified},
		},
		Batches: []migration.Batch{done, moving, failed, waiting},
		Audit:   audit,
		Quotas:  []Quota{{SubjectID: "subj-a", Used: 1, Limit: 10}},
		IndexHolders: map[string]string{"app#app-1": "tgt:developer:dev-1", "data#ds-1": "tgt:developer:dev-1", "service#svc-1": "tgt:partner:par-1",
			"service#svc-2": "src:microapp:ma-1", "app#app-9": "src:third_party:tp-1", "app#app-skipped": "src:microapp:ma-1"},
	}
}

func TestCheckCleanTable(t *testing.T) {
	rep := Check(clean(), now)
	assert.True(t, rep.OK(), rep.Text())
	assert.Equal(t, map[string]int{"items": 6, "batches": 4, "auditEvents": 10, "quotas": 1}, rep.Checked)
	assert.Contains(t, rep.Text(), "OK: no violations")
}

// Each case breaks one invariant of the clean table and expects exactly that
// violation, on that record.
func TestCheckReportsEachViolation(t *testing.T) {
	item := func(r *Records, id string) *migration.Item {
		for i := range r.Items {
			if r.Items[i].ID == id {
				return &r.Items[i]
			}
		}
		t.Fatalf("no item %s", id)
		return nil
	}
	batch := func(r *Records, id string) *migration.Batch {
		for i := range r.Batches {
			if r.Batches[i].BatchID == id {
				return &r.Batches[i]
			}
		}
		t.Fatalf("no batch %s", id)
		return nil
	}
	dropAudit := func(r *Records, bid string, to migration.BatchState) {
		keep := r.Audit[:0]
		for _, ev := range r.Audit {
			if ev.BatchID != bid || ev.To != to {
				keep = append(keep, ev)
			}
		}
		r.Audit = keep
	}
	tests := []struct {
		name   string
		breaks func(r *Records)
		kind   Kind
		id     string
	}{
		{"holder_missing", func(r *Records) { item(r, "svc-2").Holder = ""; r.IndexHolders["service#svc-2"] = "" }, ItemHolderMissing, "service#svc-2"},
		{"holder_malformed", func(r *Records) {
			item(r, "svc-2").Holder = "old:microapp:ma-1"
			r.IndexHolders["service#svc-2"] = "old:microapp:ma-1"
		}, ItemHolderMalformed, "service#svc-2"},
		{"holder_unknown_platform", func(r *Records) {
			item(r, "app-1").Holder = "tgt:nowhere:dev-1"
			r.IndexHolders["app#app-1"] = "tgt:nowhere:dev-1"
		}, ItemHolderMalformed, "app#app-1"},
		{"index_files_item_elsewhere", func(r *Records) { r.IndexHolders["service#svc-2"] = "src:microapp:ma-7" }, ItemIndexMismatch, "service#svc-2"},
		{"item_twice", func(r *Records) { r.Items = append(r.Items, *item(r, "app-1")) }, ItemDuplicate, "app#app-1"},
		{"moved_by_nobody", func(r *Records) {
			item(r, "app-9").Holder = "tgt:developer:dev-9"
			r.IndexHolders["app#app-9"] = "tgt:developer:dev-9"
		}, ItemMovedByUnknownBatch, "app#app-9"},
		{"moved_by_unknown_batch", func(r *Records) { item(r, "svc-1").MovedBy = "b-ghost" }, ItemMovedByUnknownBatch, "service#svc-1"},
		{"moved_before_commit", func(r *Records) {
			it := item(r, "app-9")
			it.Holder, it.MovedBy = "tgt:developer:dev-9", "b-wait"
			r.IndexHolders["app#app-9"] = "tgt:developer:dev-9"
		}, ItemMovedBeforeCommit, "app#app-9"},
		{"held_by_another_target", func(r *Records) {
			item(r, "ds-1").Holder = "tgt:developer:dev-2"
			r.IndexHolders["data#ds-1"] = "tgt:developer:dev-2"
		}, ItemNotAtBatchTarget, "data#ds-1"},
		{"moved_back", func(r *Records) { item(r, "svc-2").MovedBy = "b-moving" }, ItemMovedBack, "service#svc-2"},
		{"committed_counter_short", func(r *Records) { batch(r, "b-done").Moved = 1 }, BatchMovedMismatch, "m-1/b-done"},
		{"counter_over_total", func(r *Records) { batch(r, "b-moving").Moved = 3 }, BatchMovedMismatch, "m-1/b-moving"},
		{"committed_items_missing", func(r *Records) { batch(r, "b-done").Total, batch(r, "b-done").Moved = 3, 3 }, BatchItemsMismatch, "m-1/b-done"},
		{"commit_overdue", func(r *Records) {
			batch(r, "b-moving").CommitDeadline = now.Add(-time.Minute).Format(time.RFC3339)
		}, BatchCommitOverdue, "m-1/b-moving"},
		{"commit_without_deadline", func(r *Records) { batch(r, "b-moving").CommitDeadline = "" }, BatchCommitOverdue, "m-1/b-moving"},
		{"no_event_for_commit", func(r *Records) { dropAudit(r, "b-done", migration.Committed) }, AuditMissing, "m-1/b-done"},
		{"no_event_for_target_on_the_way", func(r *Records) { dropAudit(r, "b-moving", migration.AwaitingConfirmation) }, AuditMissing, "m-1/b-moving"},
		{"no_event_for_failure", func(r *Records) { dropAudit(r, "b-failed", migration.Failed) }, AuditMissing, "m-1/b-failed"},
		{"no_event_for_agreement_of_failed", func(r *Records) { dropAudit(r, "b-failed", migration.AwaitingTarget) }, AuditMissing, "m-1/b-failed"},
		{"quota_over_limit", func(r *Records) { r.Quotas[0].Used = 11 }, QuotaExceeded, "subj-a"},
		{"record_unreadable", func(r *Records) {
			r.Unreadable = append(r.Unreadable, Unreadable{Key: "ITEM#app#x #", Error: "holder: cannot unmarshal number"})
		}, RecordUnreadable, "ITEM#app#x #"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := clean()
			tc.breaks(&r)
			rep := Check(r, now)
			require.Len(t, rep.Violations, 1, rep.Text())
			v := rep.Violations[0]
			assert.Equal(t, tc.kind, v.Kind)
			assert.Equal(t, tc.id, v.ID)
			assert.NotEmpty(t, v.Detail)
			assert.False(t, rep.OK())
			assert.Contains(t, rep.Text(), "FAIL: 1 violation(s): "+string(tc.kind)+"=1")
		})
	}
}

func TestCheckOrdersViolationsStably(t *testing.T) {
	r := clean()
	r.Quotas = append(r.Quotas, Quota{SubjectID: "subj-z", Used: 6, Limit: 5}, Quota{SubjectID: "subj-b", Used: 9, Limit: 5})
	r.Items[3].Holder = ""
	r.IndexHolders = nil
	rep := Check(r, now)
	var got []string
	for _, v := range rep.Violations {
		got = append(got, string(v.Kind)+" "+v.ID)
	}
	assert.Equal(t, []string{"ITEM_HOLDER_MISSING service#svc-2", "QUOTA_EXCEEDED subj-b", "QUOTA_EXCEEDED subj-z"}, got)
}

func TestReportJSON(t *testing.T) {
	r := clean()
	r.Quotas[0].Used = 12
	raw, err := Check(r, now).JSON()
	require.NoError(t, err)
	var back Report
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, []Violation{{Kind: QuotaExceeded, ID: "subj-a", Detail: "subject holds 12 mini-programs on developer; its limit is 10"}}, back.Violations)
	assert.Equal(t, 6, back.Checked["items"])

	raw, err = Check(clean(), now).JSON()
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"violations": []`, "a clean report still lists its (empty) violations")
}

func TestIntersectKeepsOnlyRepeatedViolations(t *testing.T) {
	first := Report{Violations: []Violation{{Kind: ItemNotAtBatchTarget, ID: "app#a"}, {Kind: BatchItemsMismatch, ID: "m/b"}}}
	second := Report{Checked: map[string]int{"items": 3}, Violations: []Violation{{Kind: ItemNotAtBatchTarget, ID: "app#a", Detail: "later"}, {Kind: QuotaExceeded, ID: "s"}}}
	got := first.Intersect(second)
	assert.Equal(t, []Violation{{Kind: ItemNotAtBatchTarget, ID: "app#a", Detail: "later"}}, got.Violations)
	assert.Equal(t, 3, got.Checked["items"])
}

func TestReached(t *testing.T) {
	tests := []struct {
		b    migration.Batch
		want []migration.BatchState
	}{
		{migration.Batch{State: migration.AwaitingAgreement}, nil},
		{migration.Batch{State: migration.AwaitingConfirmation}, []migration.BatchState{migration.AwaitingTarget, migration.AwaitingConfirmation}},
		{migration.Batch{State: migration.Committed}, []migration.BatchState{migration.AwaitingTarget, migration.AwaitingConfirmation, migration.Committing, migration.Committed}},
		{migration.Batch{State: migration.Expired}, []migration.BatchState{migration.Expired}},
		{migration.Batch{State: migration.Failed, Agreement: &migration.Acceptance{}, Target: &migration.Target{}}, []migration.BatchState{migration.AwaitingTarget, migration.AwaitingConfirmation, migration.Failed}},
		{migration.Batch{State: "SOMETHING_NEW"}, []migration.BatchState{"SOMETHING_NEW"}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Reached(tc.b), string(tc.b.State))
	}
}
