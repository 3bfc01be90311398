package reliability

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/faultproxy"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// One scenario per fault, each with the outcome a developer expects: the step
// either happened once or not at all, and doing it again finishes the job.

// ---- fixtures ----------------------------------------------------------------------

// accounts builds n accounts, each its own person subject "subj-<n>" (quota
// 5) with apps mini-programs, every app with a data set and an order.
func accounts(n, apps int) *migration.Snapshot {
	snap := &migration.Snapshot{Version: 1}
	for a := 0; a < n; a++ {
		acct, subject := fmt.Sprintf("ma-%d", a), fmt.Sprintf("subj-%d", a)
		snap.Subjects = append(snap.Subjects, migration.Subject{ID: subject, Name: subject, Kind: migration.SubjectPerson, Certified: true})
		snap.Accounts = append(snap.Accounts, migration.Account{Platform: migration.PlatformMicroapp, ID: acct, Login: acct + "@example.com", SubjectID: subject})
		for i := 0; i < apps; i++ {
			id := fmt.Sprintf("app-%d-%d", a, i)
			snap.Apps = append(snap.Apps, migration.App{ID: id, Platform: migration.PlatformMicroapp, Kind: migration.AppMiniprogram, Name: id, CreatorAccountID: acct, SubjectID: subject, Certified: true})
			snap.Data = append(snap.Data, migration.DataSet{ID: "ds-" + id, AssetID: id, Kind: "analytics"})
			snap.Orders = append(snap.Orders, migration.Order{ID: "ord-" + id, AssetID: id, AmountCents: 100, Currency: "CNY", Status: "paid"})
		}
	}
	return snap
}

func ref(a int) migration.AccountRef {
	return migration.AccountRef{Platform: "microapp", ID: fmt.Sprintf("ma-%d", a)}
}

// ready takes account a's only batch to AWAITING_CONFIRMATION, without faults.
func (w *world) ready(t *testing.T, a int) migration.Batch {
	t.Helper()
	ctx := context.Background()
	src := ref(a)
	res, err := w.m.Begin(ctx, migration.BeginInput{MigrationID: fmt.Sprintf("m-%d", a), Source: src, RequestedBy: "test"})
	require.NoError(t, err)
	require.Len(t, res.BatchIDs, 1)
	ag, err := w.m.ViewAgreement(ctx, src, meta)
	require.NoError(t, err)
	_, err = w.m.AcceptAgreement(ctx, src, res.MigrationID, res.BatchIDs[0], ag.Version, ag.SHA256, meta)
	require.NoError(t, err)
	b, err := w.m.SelectTarget(ctx, src, res.MigrationID, res.BatchIDs[0], migration.Target{Mode: migration.TargetModeNew})
	require.NoError(t, err)
	require.Equal(t, migration.AwaitingConfirmation, b.State)
	return b
}

func (w *world) batch(t *testing.T, b migration.Batch) migration.Batch {
	t.Helper()
	st, err := readTable(context.Background(), w.clean, w.table)
	require.NoError(t, err)
	got, ok := st.batches[b.BatchID]
	require.True(t, ok)
	return got
}

// moveAll runs the batch's mover once and checks that the run finished it:
// done, all total items moved (those of earlier runs included).
func (w *world) moveAll(t *testing.T, b migration.Batch, total int) {
	t.Helper()
	p, err := w.m.Move(context.Background(), b.MigrationID, b.BatchID, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, migration.Progress{Done: true, Moved: total, Total: total}, counted(p))
}

// verify runs the invariant check; settled says every batch must have ended
// (and then ends every migration, as the workflow's last step does).
func (w *world) verify(t *testing.T, settled bool) (*tableState, verdict) {
	t.Helper()
	ctx := context.Background()
	st, err := readTable(ctx, w.clean, w.table)
	require.NoError(t, err)
	if settled {
		w.proxy.SetRules()
		for id := range st.migrations {
			_, err := w.m.Summarize(ctx, id)
			require.NoError(t, err)
		}
		st, err = readTable(ctx, w.clean, w.table)
		require.NoError(t, err)
	}
	v := check(w.snap, st, settled)
	more, err := reconciled(ctx, w.clean, w.table)
	require.NoError(t, err)
	v.Violations = append(v.Violations, more...)
	assert.Empty(t, v.Violations)
	assert.Zero(t, v.Lost, "lost")
	assert.Zero(t, v.Duplicated, "duplicated")
	return st, v
}

func auditCount(st *tableState, batchID, event string) int {
	n := 0
	for _, ev := range st.audit {
		if ev.BatchID == batchID && ev.Event == event {
			n++
		}
	}
	return n
}

// bodyHas matches requests whose JSON body contains s.
func bodyHas(s string) func(string, []byte) bool {
	return func(_ string, body []byte) bool { return strings.Contains(string(body), s) }
}

// ---- ambiguous writes ----------------------------------------------------------------

// The point of no return is applied but its answer is lost. The SDK sends it
// again (moto applies the resend, which DynamoDB would recognise by its
// ClientRequestToken); the resend's conditions fail, and Confirm recognises
// that it passed: one commit start, one quota reservation, and the move
// finishes it.
func TestLostAnswerAtThePointOfNoReturn(t *testing.T) {
	w := newWorld(t, accounts(1, 4), 1, 5)
	ctx := context.Background()
	b := w.ready(t, 0)

	w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.LostAnswer, Probability: 1, Limit: 1, Operations: []string{"TransactWriteItems"}, Match: bodyHas(migration.EventCommitStarted)})
	got, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
	require.NoError(t, err, "the SDK's resend found the commit done, and Confirm said so")
	assert.Equal(t, migration.Committing, got.State)
	require.Equal(t, 1, w.proxy.Counts().ByKind[faultproxy.LostAnswer])

	st, _ := w.verify(t, false)
	assert.Equal(t, 1, auditCount(st, b.BatchID, migration.EventCommitStarted))
	assert.Equal(t, quotaRecord{Used: 4, Limit: 5}, st.quota["subj-0"], "reserved once")

	w.moveAll(t, b, 12)
	w.verify(t, false)
}

// Every attempt at the point of no return loses its answer: the caller cannot
// know, and calls again. The retry finds the batch past the point and answers
// with it; nothing happened twice.
func TestLostAnswersThenRetriedConfirm(t *testing.T) {
	w := newWorld(t, accounts(1, 4), 2, 5)
	ctx := context.Background()
	b := w.ready(t, 0)

	w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.LostAnswer, Probability: 1, Operations: []string{"TransactWriteItems"}, Match: bodyHas(migration.EventCommitStarted)})
	_, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
	require.Error(t, err)
	require.Equal(t, 2, w.proxy.Counts().ByKind[faultproxy.LostAnswer], "both of the SDK's attempts applied, both answers lost")
	w.proxy.SetRules()

	got, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Committing, got.State)
	st, _ := w.verify(t, false)
	assert.Equal(t, 1, auditCount(st, b.BatchID, migration.EventCommitStarted))
	assert.Equal(t, 4, st.quota["subj-0"].Used)
}

// A fault of the network is a reason to try again, and must say so: the
// state machine retries a step only on StoreUnavailable (the Lambda boundary's
// name for UNAVAILABLE), and the waits for the developer (agreement, target,
// confirmation) send anything else to FailBatch. An INTERNAL here turns a lost
// connection into a failed batch the developer must start again.
func TestLostConnectionIsRetryable(t *testing.T) {
	w := newWorld(t, accounts(1, 2), 3, 5)
	ctx := context.Background()
	b := w.ready(t, 0)

	w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.LostAnswer, Probability: 1, Operations: faultproxy.DynamoDBWrites})
	_, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
	require.Error(t, err)
	assert.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err),
		"a connection reset after the SDK's last attempt must be UNAVAILABLE (retryable), got: %v", err)
}

// The chunk transactions of a move lose their answers: the mover fails, runs
// again, and finishes. The progress counter sits in the same transaction as
// the items, so the resends neither count nor move anything twice.
func TestLostAnswersWhileMoving(t *testing.T) {
	w := newWorld(t, accounts(1, 5), 4, 2)
	ctx := context.Background()
	b := w.ready(t, 0)
	_, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
	require.NoError(t, err)

	w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.LostAnswer, Probability: 1, Limit: 5, Operations: []string{"TransactWriteItems"}, Match: bodyHas("movedBy")})
	runs := 0
	var p migration.Progress
	for !p.Done {
		runs++
		require.Less(t, runs, 20, "the move never finished")
		p, err = w.m.Move(ctx, b.MigrationID, b.BatchID, time.Time{})
		if err != nil {
			assert.Contains(t, []migration.Code{migration.CodeUnavailable, migration.CodeInternal}, migration.ErrorCode(err), "%v", err)
		}
	}
	assert.Equal(t, 5, w.proxy.Counts().ByKind[faultproxy.LostAnswer])
	assert.Greater(t, runs, 1, "at least one run failed")
	assert.Equal(t, migration.Progress{Done: true, Moved: 15, Total: 15}, counted(p))
	w.verify(t, true)
}

// ---- throttling and server errors -------------------------------------------------

// A throttled table refuses the point of no return and every chunk: the
// answer is UNAVAILABLE (retried by the workflow), nothing half happened, and
// once the throttling stops the same calls finish.
func TestThrottledTable(t *testing.T) {
	w := newWorld(t, accounts(1, 3), 5, 4)
	ctx := context.Background()
	b := w.ready(t, 0)

	for _, code := range []string{faultproxy.CodeProvisionedThroughputExceeded, faultproxy.CodeThrottling} {
		w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.Throttle, Probability: 1, Code: code, Operations: faultproxy.DynamoDBWrites})
		_, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
		assert.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err), "%v", err)
		got := w.batch(t, b)
		assert.Equal(t, migration.AwaitingConfirmation, got.State, "nothing passed")
	}
	st, _ := w.verify(t, false)
	assert.Zero(t, st.quota["subj-0"].Used, "no quota taken")

	w.proxy.SetRules()
	_, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
	require.NoError(t, err)

	w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.Throttle, Probability: 1, Operations: []string{"TransactWriteItems"}})
	_, err = w.m.Move(ctx, b.MigrationID, b.BatchID, time.Time{})
	assert.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err), "%v", err)
	assert.Zero(t, w.batch(t, b).Moved)

	w.proxy.SetRules()
	w.moveAll(t, b, 9)
	w.verify(t, true)
}

// Server errors on reads make every step answer UNAVAILABLE and change nothing.
func TestServerErrorsOnReads(t *testing.T) {
	w := newWorld(t, accounts(1, 2), 6, 4)
	ctx := context.Background()
	b := w.ready(t, 0)
	before, err := readTable(ctx, w.clean, w.table)
	require.NoError(t, err)

	w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.ServerError, Probability: 1, Operations: faultproxy.DynamoDBReads},
		faultproxy.Rule{Kind: faultproxy.ServerError, Status: 503, Probability: 1, Operations: faultproxy.DynamoDBReads})
	_, err = w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
	assert.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err), "%v", err)
	_, err = w.m.Plan(ctx, ref(0))
	assert.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err), "%v", err)
	_, err = w.m.Summarize(ctx, b.MigrationID)
	assert.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err), "%v", err)

	after, err := readTable(ctx, w.clean, w.table)
	require.NoError(t, err)
	assert.Equal(t, before, after, "no record changed")
}

// ---- killed mid-commit --------------------------------------------------------------

// killAfter is the store as a mover sees it when its Lambda dies: after n
// chunks the context is cancelled while the next chunk's transaction is on
// its way (held up by the proxy's latency).
type killAfter struct {
	migration.Store
	n      atomic.Int32
	cancel context.CancelFunc
}

func (k *killAfter) MoveChunk(ctx context.Context, c migration.Chunk) (migration.ChunkResult, error) {
	if k.n.Add(-1) < 0 {
		time.AfterFunc(5*time.Millisecond, k.cancel)
	}
	return k.Store.MoveChunk(ctx, c)
}

// A mover killed after some chunks, with the next one in flight, leaves the
// batch COMMITTING with an exact counter; running it again moves the rest.
func TestKilledMoverResumes(t *testing.T) {
	for _, chunks := range []int32{0, 1, 3} {
		t.Run(fmt.Sprintf("after %d chunks", chunks), func(t *testing.T) {
			w := newWorld(t, accounts(1, 4), 7, 2)
			ctx := context.Background()
			b := w.ready(t, 0)
			_, err := w.m.Confirm(ctx, ref(0), b.MigrationID, b.BatchID)
			require.NoError(t, err)

			w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.Latency, Probability: 1, MinDelay: 50 * time.Millisecond, Operations: []string{"TransactWriteItems"}})
			kctx, cancel := context.WithCancel(ctx)
			k := &killAfter{Store: w.store, cancel: cancel}
			k.n.Store(chunks)
			doomed := migration.New(migration.Deps{Store: k, Signal: nopSignal{}, ChunkSize: 2})
			_, err = doomed.Move(kctx, b.MigrationID, b.BatchID, time.Time{})
			require.Error(t, err, "the mover died")

			mid := w.batch(t, b)
			assert.Equal(t, migration.Committing, mid.State, "past the point of no return, only forward")
			assert.Equal(t, int(2*chunks), mid.Moved, "the chunks before the kill, none after")
			w.verify(t, false)

			w.proxy.SetRules()
			w.moveAll(t, b, 12)
			w.verify(t, true)
		})
	}
}

// ---- the callback that never comes -------------------------------------------------

// A wait that times out expires the batch (the state machine's Catch on
// States.Timeout calls Expire; e2e/TestPendingBatchExpires runs that path on
// the local stack). Here the timeout fires at the very moment the developer
// confirms, on twelve batches at once: each ends either EXPIRED with nothing
// moved, or past the point of no return, moving everything. Never both.
func TestExpiryRacingConfirmation(t *testing.T) {
	const n = 12
	w := newWorld(t, accounts(n, 1), 8, 5)
	ctx := context.Background()
	batches := make([]migration.Batch, n)
	for a := range batches {
		batches[a] = w.ready(t, a)
	}
	w.proxy.SetRules(faultproxy.Rule{Kind: faultproxy.Latency, Probability: 0.5, MaxDelay: 10 * time.Millisecond})

	var wg sync.WaitGroup
	confirmed := make([]error, n)
	for a, b := range batches {
		wg.Add(2)
		go func() { defer wg.Done(); _, confirmed[a] = w.m.Confirm(ctx, ref(a), b.MigrationID, b.BatchID) }()
		go func() { defer wg.Done(); _, _ = w.m.Expire(ctx, b.MigrationID, b.BatchID) }()
	}
	wg.Wait()
	w.proxy.SetRules()

	outcomes := map[migration.BatchState]int{}
	for a, b := range batches {
		got := w.batch(t, b)
		outcomes[got.State]++
		switch got.State {
		case migration.Expired:
			assert.Equal(t, migration.CodeWrongStep, migration.ErrorCode(confirmed[a]), "the confirmation lost the race and said so")
		case migration.Committing:
			require.NoError(t, confirmed[a])
			_, err := w.m.Move(ctx, b.MigrationID, b.BatchID, time.Time{})
			require.NoError(t, err)
		default:
			t.Errorf("batch %s ended %s", b.BatchID, got.State)
		}
	}
	t.Logf("expiry vs confirmation: %v", outcomes)
	w.verify(t, true)
}

// ---- the throttle answer reaches the store as DynamoDB's would ----------------------

// The store maps the proxy's throttling and 5xx answers exactly as it maps
// DynamoDB's, so the scenarios above exercise the production error path.
func TestInjectedErrorsAreTheSDKsErrors(t *testing.T) {
	w := newWorld(t, accounts(1, 1), 9, 5)
	ctx := context.Background()
	opts := faultyClient(w.proxy.URL).Options()
	opts.Retryer = retry.AddWithMaxAttempts(retry.NewStandard(), 1)
	store := dynamostore.New(dynamodb.New(opts), w.table)
	for _, r := range []faultproxy.Rule{
		{Kind: faultproxy.Throttle, Probability: 1},
		{Kind: faultproxy.Throttle, Probability: 1, Code: faultproxy.CodeThrottling},
		{Kind: faultproxy.ServerError, Probability: 1},
		{Kind: faultproxy.ServerError, Probability: 1, Status: 503},
	} {
		w.proxy.SetRules(r)
		_, err := store.SourceAccount(ctx, ref(0))
		assert.Equal(t, migration.CodeUnavailable, migration.ErrorCode(err), "%s %s %d: %v", r.Kind, r.Code, r.Status, err)
	}
}

// counted is how far a move came, without where it landed (asserted by verify).
func counted(p migration.Progress) migration.Progress {
	return migration.Progress{Done: p.Done, Moved: p.Moved, Total: p.Total}
}
