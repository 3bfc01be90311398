package dynamostore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/workflow"
)

var alice = migration.AccountRef{Platform: "microapp", ID: "ma-1"}

func auditEvents(t *testing.T, e *env, src migration.AccountRef, event string) []migration.AuditEvent {
	t.Helper()
	var out []migration.AuditEvent
	cursor := ""
	for {
		evs, next, err := e.store.AuditTrail(e.ctx, src, cursor, 1000)
		require.NoError(t, err)
		for _, ev := range evs {
			if ev.Event == event {
				out = append(out, ev)
			}
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

// Rule 9: fifty clicks on "confirm" at once pass the point of no return once,
// and fifty movers at once move every asset exactly once.
func TestConcurrentConfirmationsCommitOnce(t *testing.T) {
	snap := aliceApps(4).build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	require.Equal(t, 12, b.Total, "4 apps, 4 data sets, 4 orders")

	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "click %d", i)
	}
	assert.Len(t, auditEvents(t, e, alice, migration.EventCommitStarted), 1, "one point of no return")

	moved := make([]migration.Progress, 50)
	for i := range moved {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := e.m.Move(e.ctx, b.MigrationID, b.BatchID, time.Time{})
			assert.NoError(t, err)
			moved[i] = p
		}(i)
	}
	wg.Wait()

	got, err := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Committed, got.State)
	assert.Equal(t, 12, got.Moved, "each asset counted once")
	assert.Empty(t, e.items(t, got.SourceHolder(), ""), "nothing left behind")
	atTarget := e.items(t, got.TargetHolder(), "")
	assert.Len(t, atTarget, 12)
	for _, it := range atTarget {
		assert.Equal(t, b.BatchID, it.MovedBy)
	}
	assert.Len(t, auditEvents(t, e, alice, migration.EventBatchCommitted), 1)
	acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, got.TargetAccountID)
	require.NoError(t, err)
	assert.Equal(t, "subj-a", acct.SubjectID)
	assert.Equal(t, "alice@example.com", acct.Login)
}

// Rule 12: two accounts of one individual business (quota 5) confirm three
// mini-programs each at the same moment: exactly one lands, the other is
// refused with QUOTA_EXCEEDED before the point of no return, nothing moved.
func TestQuotaRaceOneSubject(t *testing.T) {
	bob := migration.AccountRef{Platform: "microapp", ID: "ma-2"}
	snap := newFixture().subject("subj-ib", migration.SubjectIndividualBusiness).
		account("microapp", "ma-1", "alice@example.com", "subj-ib").
		account("microapp", "ma-2", "bob@example.com", "subj-ib").
		miniprograms("microapp", "ma-1", "subj-ib", "a", 3).
		miniprograms("microapp", "ma-2", "subj-ib", "b", 3).build(t)
	e := newEnv(t, snap)
	ba := e.readyBatch(t, alice, "subj-ib/developer", migration.Target{Mode: migration.TargetModeNew})
	bb := e.readyBatch(t, bob, "subj-ib/developer", migration.Target{Mode: migration.TargetModeNew})

	errA, errB := e.confirmAtOnce(alice, ba, bob, bb)

	require.True(t, (errA == nil) != (errB == nil), "exactly one lands: alice=%v bob=%v", errA, errB)
	won, lost, lostErr := ba, bb, errB
	if errA != nil {
		won, lost, lostErr = bb, ba, errA
	}
	assert.Equal(t, migration.CodeQuotaExceeded, migration.ErrorCode(lostErr))
	e.moveAll(t, won)

	l, err := e.store.Batch(e.ctx, lost.MigrationID, lost.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Failed, l.State)
	require.NotNil(t, l.Error)
	assert.Equal(t, migration.CodeQuotaExceeded, l.Error.Code)
	assert.Len(t, e.items(t, l.SourceHolder(), ""), 9, "nothing of the refused batch moved")
	assert.Len(t, e.items(t, won.TargetHolder(), ""), 9)
	_, err = e.store.TargetAccount(e.ctx, migration.TargetDeveloper, l.TargetAccountID)
	assert.Equal(t, migration.CodeNotFound, migration.ErrorCode(err), "no account created for the refused batch")
}

// A batch larger than the quota alone is refused without touching the counter.
func TestQuotaExceededByOneBatch(t *testing.T) {
	snap := newFixture().subject("subj-p", migration.SubjectPerson).
		account("microapp", "ma-1", "alice@example.com", "subj-p").
		miniprograms("microapp", "ma-1", "subj-p", "a", 6).build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-p/developer", migration.Target{Mode: migration.TargetModeNew})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	assert.Equal(t, migration.CodeQuotaExceeded, migration.ErrorCode(err))
	got, err := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Failed, got.State)
	assert.Len(t, e.items(t, b.SourceHolder(), ""), 18)
}

// lostAnswer applies TransactWriteItems calls but, from the armed call on,
// reports a failure as if the answer had been lost on the way back: the
// classic ambiguous write.
type lostAnswer struct {
	*dynamodb.Client
	after atomic.Int32 // calls still answered normally; <0 = disarmed
	lost  atomic.Int32
}

func (l *lostAnswer) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := l.Client.TransactWriteItems(ctx, in, opts...)
	if err == nil && l.after.Add(-1) == -1 {
		l.lost.Add(1)
		return nil, errors.New("connection reset by peer (injected after the write applied)")
	}
	return out, err
}

// Rule 9 under a crash: the mover dies after a chunk was written but before
// it heard so. A rerun completes the batch; nothing moves twice, nothing is lost.
func TestCrashBetweenChunksResumes(t *testing.T) {
	snap := aliceApps(10).build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)

	faulty := &lostAnswer{Client: e.db}
	faulty.after.Store(2) // two chunks go through, the third is applied but its answer is lost
	crashy := migration.New(migration.Deps{Store: dynamostore.New(faulty, e.store.Table()).WithAuditTable(e.store.AuditTable()), Signal: e.signal, ChunkSize: 7})
	_, err = crashy.Move(e.ctx, b.MigrationID, b.BatchID, time.Time{})
	require.Error(t, err, "the mover crashed")
	require.EqualValues(t, 1, faulty.lost.Load())

	mid, err := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Committing, mid.State, "past the point of no return, only forward")
	assert.Equal(t, 21, mid.Moved, "three chunks of 7 applied")

	rerun := migration.New(migration.Deps{Store: e.store, Signal: e.signal, ChunkSize: 7})
	p, err := rerun.Move(e.ctx, b.MigrationID, b.BatchID, time.Time{})
	require.NoError(t, err)
	assert.True(t, p.Done)
	assert.Equal(t, 30, p.Moved)
	assert.Equal(t, 30, p.Total)
	assert.Empty(t, e.items(t, b.SourceHolder(), ""))
	assert.Len(t, e.items(t, mid.TargetHolder(), ""), 30)
}

// Rule 3: one target account holds one subject, enforced by the commit's
// condition, not by the earlier read: two batches of different subjects that
// both chose the same empty account cannot both land in it.
func TestTargetHoldsOneSubject(t *testing.T) {
	snap := newFixture().subject("subj-a", migration.SubjectCompany).subject("subj-b", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").
		miniprograms("microapp", "ma-1", "subj-a", "a", 1).
		miniprograms("microapp", "ma-1", "subj-b", "b", 1).
		target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "").build(t)
	e := newEnv(t, snap)
	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	require.Len(t, res.BatchIDs, 2)
	a, err := e.m.ViewAgreement(e.ctx, alice, migration.RequestMeta{})
	require.NoError(t, err)
	var batches []migration.Batch
	for _, id := range res.BatchIDs {
		_, err := e.m.AcceptAgreement(e.ctx, alice, "m-1", id, a.Version, a.SHA256, migration.RequestMeta{})
		require.NoError(t, err)
		cands, _, err := e.m.Candidates(e.ctx, alice, "m-1", id)
		require.NoError(t, err)
		require.Len(t, cands, 1, "dev-1 is offered to both while it holds no subject")
		b, err := e.m.SelectTarget(e.ctx, alice, "m-1", id, migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"})
		require.NoError(t, err)
		batches = append(batches, b)
	}
	_, err = e.m.Confirm(e.ctx, alice, "m-1", batches[0].BatchID)
	require.NoError(t, err)
	_, err = e.m.Confirm(e.ctx, alice, "m-1", batches[1].BatchID)
	assert.Equal(t, migration.CodeTargetNotEligible, migration.ErrorCode(err))
	second, err := e.store.Batch(e.ctx, "m-1", batches[1].BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingTarget, second.State, "a taken target is chosen again")
	assert.Len(t, e.items(t, second.SourceHolder(), second.BatchKey), 3, "nothing of the refused batch moved")
	acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-1")
	require.NoError(t, err)
	assert.Equal(t, batches[0].SubjectID, acct.SubjectID)
}

// A 5,000-asset batch commits (timed here; the benchmark measures it
// against the store's own rate).
func TestLargeBatchCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 assets: skipped with -short")
	}
	f := newFixture().subject("subj-a", migration.SubjectCompany).account("microapp", "ma-1", "alice@example.com", "subj-a")
	for i := 0; i < 1667; i++ {
		id := "web-" + itoa(i)
		f.Apps = append(f.Apps, migration.App{ID: id, Platform: "microapp", Kind: migration.AppWeb, Name: id, CreatorAccountID: "ma-1", SubjectID: "subj-a", Certified: true})
		f.Data = append(f.Data, migration.DataSet{ID: "ds-" + id, AssetID: id, Kind: "analytics"})
		f.Orders = append(f.Orders, migration.Order{ID: "ord-" + id, AssetID: id, AmountCents: 1, Currency: "CNY", Status: "paid"})
	}
	e := newEnv(t, f.build(t))
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	require.Equal(t, 5001, b.Total)
	confirmed := time.Now()
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	t.Logf("confirmed in %s (consistent reads at the point of no return)", time.Since(confirmed).Round(time.Millisecond))
	began := time.Now()
	p := e.moveAll(t, b)
	took := time.Since(began)
	t.Logf("5,001 assets moved in %s (%.0f assets/s)", took.Round(time.Millisecond), float64(p.Moved)/took.Seconds())
	assert.Equal(t, 5001, p.Moved)
	assert.Empty(t, e.items(t, b.SourceHolder(), ""))
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

// Rule 8 and docs/CONTRACT.md §4: a collaboration relation moves with the
// collaborator (a batch of their own account, "personal" without a subject),
// never moves the app, and links to the app wherever it lives, whichever of
// the two migrations commits first.
func TestCollaborationRelationFollowsEitherOrder(t *testing.T) {
	bob := migration.AccountRef{Platform: "microapp", ID: "ma-2"}
	for _, bobFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "collaborator first", false: "app owner first"}[bobFirst], func(t *testing.T) {
			f := newFixture().subject("subj-a", migration.SubjectCompany).
				account("microapp", "ma-1", "alice@example.com", "subj-a").
				account("microapp", "ma-2", "bob@example.com", "").
				miniprograms("microapp", "ma-1", "subj-a", "app", 1)
			f.Members = append(f.Members, migration.Member{AssetID: "app-0", AccountID: "ma-2", Role: migration.RoleCollaborator})
			e := newEnv(t, f.build(t))

			plan, err := e.m.Plan(e.ctx, bob)
			require.NoError(t, err)
			require.Len(t, plan.Batches, 1)
			assert.Equal(t, "personal/developer", plan.Batches[0].BatchKey)
			assert.Equal(t, 1, plan.Batches[0].Counts.Members)
			assert.Zero(t, plan.Batches[0].Counts.Apps, "the collaborator never moves the app")

			commit := func(src migration.AccountRef, key string) migration.Batch {
				b := e.readyBatch(t, src, key, migration.Target{Mode: migration.TargetModeNew})
				_, err := e.m.Confirm(e.ctx, src, b.MigrationID, b.BatchID)
				require.NoError(t, err)
				e.moveAll(t, b)
				b, err = e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
				require.NoError(t, err)
				return b
			}
			var bb, ba migration.Batch
			if bobFirst {
				bb = commit(bob, "personal/developer")
				view, err := e.m.TargetHoldings(e.ctx, bob, migration.TargetDeveloper, bb.TargetAccountID, "", 100)
				require.NoError(t, err)
				require.Len(t, view.Items, 1)
				assert.Equal(t, "microapp", view.Items[0].LinkedTo, "the app has not moved yet")
				ba = commit(alice, "subj-a/developer")
			} else {
				ba = commit(alice, "subj-a/developer")
				bb = commit(bob, "personal/developer")
			}
			rel, err := e.store.Item(e.ctx, migration.ItemMember, migration.MemberItemID("app-0", "ma-2"))
			require.NoError(t, err)
			assert.Equal(t, bb.TargetHolder(), rel.Holder, "the relation is at the collaborator's target")
			assert.Equal(t, "app-0", rel.ParentID)
			app, err := e.store.Item(e.ctx, migration.ItemApp, "app-0")
			require.NoError(t, err)
			assert.Equal(t, ba.TargetHolder(), app.Holder, "the app is at its creator's target")
			view, err := e.m.TargetHoldings(e.ctx, bob, migration.TargetDeveloper, bb.TargetAccountID, "", 100)
			require.NoError(t, err)
			require.Len(t, view.Items, 1)
			assert.Equal(t, "developer", view.Items[0].LinkedTo, "the link follows the app")
			_, err = e.m.TargetHoldings(e.ctx, bob, migration.TargetDeveloper, ba.TargetAccountID, "", 100)
			assert.Equal(t, migration.CodeNotFound, migration.ErrorCode(err), "bob cannot see alice's account")
		})
	}
}

// A batch larger than one invocation can move continues across invocations:
// Move stops once its deadline has passed, reports how far it got, and the
// next call (the state machine's loop) carries on.
func TestMoveContinuesAcrossInvocations(t *testing.T) {
	snap := aliceApps(10).build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	m := migration.New(migration.Deps{Store: e.store, ChunkSize: 8})
	past := time.Now().Add(-time.Second)
	var calls int
	var p migration.Progress
	for !p.Done {
		calls++
		require.Less(t, calls, 10, "the loop ends")
		p, err = m.Move(e.ctx, b.MigrationID, b.BatchID, past)
		require.NoError(t, err)
		if !p.Done {
			assert.Equal(t, 8*calls, p.Moved, "one chunk per invocation past the deadline")
		}
	}
	assert.Equal(t, 30, p.Moved)
	assert.Equal(t, 4, calls, "30 items in chunks of 8: three invocations stop early, the fourth finishes")
}

// Two (or twenty) clicks on "start" at once: one migration, and every click
// is answered with it.
func TestConcurrentStartsShareOneMigration(t *testing.T) {
	snap := aliceApps(2).build(t)
	e := newEnv(t, snap)
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := e.m.Start(e.ctx, alice, nil)
			if assert.NoError(t, err) {
				ids[i] = res.Migration.MigrationID
			}
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	assert.Len(t, auditEvents(t, e, alice, migration.EventMigrationStarted), 1)
}

// Rule 6 with two clicks: concurrent acceptances of the viewed agreement all
// answer success and record one acceptance.
func TestConcurrentAcceptances(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	a, err := e.m.ViewAgreement(e.ctx, alice, migration.RequestMeta{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = e.m.AcceptAgreement(e.ctx, alice, "m-1", res.BatchIDs[0], a.Version, a.SHA256, migration.RequestMeta{SourceIP: "203.0.113.1"})
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	accepted := auditEvents(t, e, alice, migration.EventAgreementAccepted)
	require.Len(t, accepted, 1)
	require.NotNil(t, accepted[0].Agreement)
	assert.Equal(t, a.SHA256, accepted[0].Agreement.SHA256)
	assert.Equal(t, "203.0.113.1", accepted[0].Agreement.SourceIP)
	assert.Equal(t, "microapp:ma-1", accepted[0].Agreement.AcceptedBy)
}

// Rule 9 at the edge of rule 13: the developer confirms as the wait times out.
// The expiry finds the batch past the point of no return, leaves it alone and
// tells the state machine to move it on (ConfirmedMeanwhile -> Move).
func TestExpiryAfterConfirmationMovesOn(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)

	steps := workflow.Steps{Migrator: e.m}
	for _, action := range []string{"expire", "fail"} {
		out, err := steps.Finish(e.ctx, workflow.FinishEvent{Action: action, MigrationID: b.MigrationID, BatchID: b.BatchID})
		require.NoError(t, err)
		assert.Equal(t, workflow.EndResult{Committing: true}, out, action)
	}
	got, err := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Committing, got.State, "never EXPIRED or FAILED after the point of no return")
}
