package dynamostore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// Records that arrive while migrations wait or move (docs/CONTRACT.md §4).
// Each import below is the old platforms' full snapshot again with the new
// records in it, as the daily export of a live platform would be.

func arrivalsFixture(n int) *fixture {
	return aliceApps(n).target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "")
}

var devOne = migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"}

func (e *env) reconcileClean(t *testing.T) {
	t.Helper()
	recs, err := dynamostore.ScanRecords(e.ctx, e.db, e.store.Table(), 1, e.store.AuditTable())
	require.NoError(t, err)
	rep := reconcile.Check(recs.Records, time.Now())
	require.True(t, rep.OK(), rep.Text())
}

func (e *env) batchNow(t *testing.T, b migration.Batch) migration.Batch {
	t.Helper()
	cur, err := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	return cur
}

// A new order of an app whose batch waits for its confirmation joins the
// batch: the review lists it, the point of no return counts it, the move
// takes it, and moved never exceeds total.
func TestNewOrderJoinsWaitingBatch(t *testing.T) {
	e := newEnv(t, arrivalsFixture(1).build(t))
	b := e.readyBatch(t, alice, "subj-a/developer", devOne)
	require.Equal(t, 3, b.Total)

	f := arrivalsFixture(1)
	f.Orders = append(f.Orders, migration.Order{ID: "ord-new", AssetID: "app-0", AmountCents: 500, Currency: "CNY", Status: "paid"})
	_, err := e.store.Import(e.ctx, f.build(t))
	require.NoError(t, err)
	assert.Contains(t, keysOf(e.items(t, b.SourceHolder(), b.BatchKey)), "order#ord-new", "the review shows it")

	_, err = e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	p := e.moveAll(t, b)
	cur := e.batchNow(t, b)
	assert.Equal(t, 4, cur.Total, "the point of no return counts what joined")
	assert.Equal(t, cur.Total, cur.Moved)
	assert.Equal(t, p.Total, p.Moved)
	ord, err := e.store.Item(e.ctx, migration.ItemOrder, "ord-new")
	require.NoError(t, err)
	assert.Equal(t, b.TargetHolder(), ord.Holder)
	e.reconcileClean(t)
}

// A data set that arrives after the point of no return, while its app is
// still at the source, joins the moving batch: counted, and moved with it.
func TestDataSetArrivingDuringMoveIsCounted(t *testing.T) {
	e := newEnv(t, arrivalsFixture(2).build(t))
	b := e.readyBatch(t, alice, "subj-a/developer", devOne)
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	require.Equal(t, migration.Committing, e.batchNow(t, b).State)

	f := arrivalsFixture(2)
	f.Data = append(f.Data, migration.DataSet{ID: "ds-new", AssetID: "app-1", Kind: "logs"})
	_, err = e.store.Import(e.ctx, f.build(t))
	require.NoError(t, err)
	assert.Equal(t, 7, e.batchNow(t, b).Total, "six planned, one joined while moving")

	e.moveAll(t, b)
	cur := e.batchNow(t, b)
	assert.Equal(t, migration.Committed, cur.State)
	assert.Equal(t, 7, cur.Moved)
	assert.Empty(t, e.items(t, b.SourceHolder(), ""), "nothing left behind at the source")
	e.reconcileClean(t)
}

// A data set of an app that has already moved follows it to the same
// target account, audited and counted on the batch as a late arrival.
func TestLateDataSetFollowsMovedApp(t *testing.T) {
	e := newEnv(t, arrivalsFixture(1).build(t))
	b := e.readyBatch(t, alice, "subj-a/developer", devOne)
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	e.moveAll(t, b)

	f := arrivalsFixture(1)
	f.Data = append(f.Data, migration.DataSet{ID: "ds-late", AssetID: "app-0", Kind: "logs"})
	rep, err := e.store.Import(e.ctx, f.build(t))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"data": 1}, rep.Added)

	ds, err := e.store.Item(e.ctx, migration.ItemData, "ds-late")
	require.NoError(t, err)
	assert.Equal(t, b.TargetHolder(), ds.Holder, "never stranded at the source, never elsewhere")
	assert.Equal(t, b.BatchID, ds.MovedBy)
	assert.True(t, ds.LateArrival)
	cur := e.batchNow(t, b)
	assert.Equal(t, 1, cur.LateArrivals)
	assert.Equal(t, cur.Total, cur.Moved, "a late arrival is not part of what the batch moved")
	assert.NotEmpty(t, auditEvents(t, e, alice, migration.EventLateArrival))
	assert.Empty(t, e.items(t, b.SourceHolder(), ""))
	e.reconcileClean(t)
}

// A new mini-program after the point of no return waits for a later
// migration: the moving batch leaves it; once the migration has ended the
// account is eligible again and a new migration moves it.
func TestNewAppAfterPointOfNoReturnWaits(t *testing.T) {
	e := newEnv(t, arrivalsFixture(2).build(t))
	b := e.readyBatch(t, alice, "subj-a/developer", devOne)
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)

	f := arrivalsFixture(2)
	f.Apps = append(f.Apps, migration.App{ID: "app-late", Platform: "microapp", Kind: migration.AppMiniprogram, Name: "late",
		CreatorAccountID: "ma-1", SubjectID: "subj-a", Certified: true})
	_, err = e.store.Import(e.ctx, f.build(t))
	require.NoError(t, err)

	e.moveAll(t, b)
	cur := e.batchNow(t, b)
	assert.Equal(t, 6, cur.Total)
	assert.Equal(t, 6, cur.Moved, "the late app is not moved by the batch it missed")
	late, err := e.store.Item(e.ctx, migration.ItemApp, "app-late")
	require.NoError(t, err)
	assert.Equal(t, b.SourceHolder(), late.Holder)
	e.reconcileClean(t)

	_, err = e.m.Summarize(e.ctx, b.MigrationID)
	require.NoError(t, err)
	plan, err := e.m.Plan(e.ctx, alice)
	require.NoError(t, err)
	require.True(t, plan.Eligible, "the new app makes the account eligible again")
	b2 := e.readyBatch(t, alice, "subj-a/developer", devOne)
	_, err = e.m.Confirm(e.ctx, alice, b2.MigrationID, b2.BatchID)
	require.NoError(t, err)
	e.moveAll(t, b2)
	late, err = e.store.Item(e.ctx, migration.ItemApp, "app-late")
	require.NoError(t, err)
	assert.Equal(t, b2.TargetHolder(), late.Holder)
	assert.Equal(t, b2.BatchID, late.MovedBy)
	used, _ := e.quotaUsed(t, "subj-a")
	assert.Equal(t, 3, used)
	e.reconcileClean(t)
}

// A subject at its quota whose waiting batch gains a mini-program is refused
// at the point of no return: the quota counts exactly what would move.
func TestQuotaCountsMiniProgramThatJoined(t *testing.T) {
	e := newEnv(t, arrivalsFixture(10).build(t))
	b := e.readyBatch(t, alice, "subj-a/developer", devOne)

	f := arrivalsFixture(10)
	f.Apps = append(f.Apps, migration.App{ID: "app-11th", Platform: "microapp", Kind: migration.AppMiniprogram, Name: "eleventh",
		CreatorAccountID: "ma-1", SubjectID: "subj-a", Certified: true})
	_, err := e.store.Import(e.ctx, f.build(t))
	require.NoError(t, err)

	_, err = e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.Error(t, err)
	assert.Equal(t, migration.CodeQuotaExceeded, migration.ErrorCode(err))
	assert.Len(t, e.items(t, b.SourceHolder(), ""), 31, "nothing moved")
	used, _ := e.quotaUsed(t, "subj-a")
	assert.Zero(t, used)
	e.reconcileClean(t)
}

// A target account's onboarding may move forward and its mini-programs may
// change; anything else that exists with other content is refused, named.
func TestTargetAccountChangesOnlyForward(t *testing.T) {
	base := func(onb migration.Onboarding, held int) *fixture {
		f := aliceApps(1).target(migration.TargetDeveloper, "dev-2", "alice@example.com", onb, "subj-a")
		return f.held(held)
	}
	e := newEnv(t, base(migration.OnboardingNone, 0).build(t))

	_, err := e.store.Import(e.ctx, base(migration.OnboardingApplied, 0).build(t))
	require.NoError(t, err)
	_, err = e.store.Import(e.ctx, base(migration.OnboardingCompleted, 2).build(t))
	require.NoError(t, err)
	acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-2")
	require.NoError(t, err)
	assert.Equal(t, migration.OnboardingCompleted, acct.Onboarding)
	assert.Equal(t, 2, acct.MiniPrograms)

	_, err = e.store.Import(e.ctx, base(migration.OnboardingApplied, 2).build(t))
	require.Error(t, err)
	assert.Equal(t, migration.CodeConflict, migration.ErrorCode(err))
	assert.Contains(t, err.Error(), `targetAccounts[0] (id "dev-2"): onboarding may only move forward`)

	g := base(migration.OnboardingCompleted, 2)
	g.TargetAccounts[0].Login = "mallory@example.com"
	_, err = e.store.Import(e.ctx, g.build(t))
	assert.ErrorContains(t, err, `targetAccounts[0] (id "dev-2"): exists with login "alice@example.com"`)
	acct, err = e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-2")
	require.NoError(t, err)
	assert.Equal(t, migration.OnboardingCompleted, acct.Onboarding, "a refused import changes nothing")
}

func keysOf(items []migration.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key()
	}
	return out
}
