package dynamostore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// moto servers for the package, one per core: each test gets one to itself,
// reset, deploys the template's table afresh and runs beside the others
// against real DynamoDB semantics (conditions, transactions, GSIs).
var motos stacktest.MotoPool

func TestMain(m *testing.M) {
	code := m.Run()
	_ = motos.Close()
	os.Exit(code)
}

type env struct {
	db     *dynamodb.Client
	store  *dynamostore.Store
	m      *migration.Migrator
	signal *recordingSignaller
	ctx    context.Context
}

func newEnv(t *testing.T, snap *migration.Snapshot) *env {
	t.Helper()
	t.Parallel() // a moto of its own: nothing here is shared with another test
	ctx := context.Background()
	srv := motos.Get(t)
	db := dynamodb.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
	table, audit, err := stack.DeployTables(ctx, db, "../..")
	require.NoError(t, err)
	store := dynamostore.New(db, table).WithAuditTable(audit)
	if snap != nil {
		require.NoError(t, store.ImportSnapshot(ctx, snap))
	}
	sig := &recordingSignaller{}
	return &env{db: db, store: store, signal: sig, ctx: ctx,
		m: migration.New(migration.Deps{Store: store, Signal: sig, Starter: noStarter{}, ChunkSize: 99})}
}

// recordingSignaller stands in for Step Functions in store tests: the waits
// themselves are proven end to end against moto's Step Functions elsewhere.
type recordingSignaller struct{ stacktest.RecordingSignaller }

func (r *recordingSignaller) typeOf(token string) string { return r.ErrorTypeOf(token) }

func (r *recordingSignaller) didSucceed(token string) bool { return r.DidSucceed(token) }

type noStarter = stacktest.NopStarter

// ---- snapshots -------------------------------------------------------------------

// fixture builds snapshots in code so each test states exactly what it needs.
type fixture struct{ migration.Snapshot }

func newFixture() *fixture { return &fixture{migration.Snapshot{Version: 1}} }

// endedMigration begins migration id for alice and ends it (its one batch
// expired, the migration summarized), so another may begin after it.
func (e *env) endedMigration(t *testing.T, id string) {
	t.Helper()
	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: id, Source: alice, RequestedBy: "ops:test"})
	require.NoError(t, err)
	require.Empty(t, res.ActiveMigrationID)
	_, err = e.m.Expire(e.ctx, id, res.BatchIDs[0])
	require.NoError(t, err)
	_, err = e.m.Summarize(e.ctx, id)
	require.NoError(t, err)
}

// confirmAtOnce confirms two batches at the same moment, each by its own
// developer, and returns each confirmation's error.
func (e *env) confirmAtOnce(a migration.AccountRef, ba migration.Batch, b migration.AccountRef, bb migration.Batch) (errA, errB error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, errA = e.m.Confirm(e.ctx, a, ba.MigrationID, ba.BatchID) }()
	go func() { defer wg.Done(); _, errB = e.m.Confirm(e.ctx, b, bb.MigrationID, bb.BatchID) }()
	wg.Wait()
	return errA, errB
}

// over is e's migrator with its store wrapped: a copy of its dependencies, so
// e.m itself keeps the real store (copying a Migrator would share them).
func (e *env) over(s migration.Store) *migration.Migrator {
	d := *e.m.Deps
	d.Store = s
	return migration.New(d)
}

// aliceApps is the fixture most tests start from: alice (microapp ma-1) of
// one company subject, with n certified mini-programs.
func aliceApps(n int) *fixture {
	return newFixture().subject("subj-a", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").
		miniprograms("microapp", "ma-1", "subj-a", "app", n)
}

func (f *fixture) subject(id string, kind migration.SubjectKind) *fixture {
	f.Subjects = append(f.Subjects, migration.Subject{ID: id, Name: id + " Ltd.", Kind: kind, Certified: true})
	return f
}

func (f *fixture) account(p migration.SourcePlatform, id, login, subjectID string) *fixture {
	f.Accounts = append(f.Accounts, migration.Account{Platform: p, ID: id, Login: login, SubjectID: subjectID})
	return f
}

// miniprograms adds n certified mini-programs created by account under subject,
// each with one data set and one order.
func (f *fixture) miniprograms(p migration.SourcePlatform, account, subjectID, prefix string, n int) *fixture {
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i)
		f.Apps = append(f.Apps, migration.App{ID: id, Platform: p, Kind: migration.AppMiniprogram, Name: id, CreatorAccountID: account, SubjectID: subjectID, Certified: true})
		f.Data = append(f.Data, migration.DataSet{ID: "ds-" + id, AssetID: id, Kind: "analytics"})
		f.Orders = append(f.Orders, migration.Order{ID: "ord-" + id, AssetID: id, AmountCents: 100, Currency: "CNY", Status: "paid"})
	}
	return f
}

func (f *fixture) target(p migration.TargetPlatform, id, login string, onb migration.Onboarding, subjectID string) *fixture {
	f.TargetAccounts = append(f.TargetAccounts, migration.TargetAccount{Platform: p, ID: id, Login: login, Onboarding: onb, SubjectID: subjectID})
	return f
}

// held sets how many mini-programs the last target account already holds.
func (f *fixture) held(n int) *fixture {
	f.TargetAccounts[len(f.TargetAccounts)-1].MiniPrograms = n
	return f
}

func (f *fixture) build(t *testing.T) *migration.Snapshot {
	t.Helper()
	require.NoError(t, f.Validate())
	s := f.Snapshot
	return &s
}

// ---- driving a batch to confirmation ---------------------------------------------------

// readyBatch begins a migration for src and takes its only (or named) batch
// through agreement and target, as the developer would over HTTP.
func (e *env) readyBatch(t *testing.T, src migration.AccountRef, batchKey string, target migration.Target) migration.Batch {
	t.Helper()
	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: migration.NewMigrationID(), Source: src, RequestedBy: "test", BatchKeys: []string{batchKey}})
	require.NoError(t, err)
	require.Empty(t, res.ActiveMigrationID)
	require.Len(t, res.BatchIDs, 1)
	a, err := e.m.ViewAgreement(e.ctx, src, migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "test"})
	require.NoError(t, err)
	_, err = e.m.AcceptAgreement(e.ctx, src, res.MigrationID, res.BatchIDs[0], a.Version, a.SHA256, migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "test"})
	require.NoError(t, err)
	b, err := e.m.SelectTarget(e.ctx, src, res.MigrationID, res.BatchIDs[0], target)
	require.NoError(t, err)
	require.Equal(t, migration.AwaitingConfirmation, b.State)
	return b
}

func (e *env) items(t *testing.T, holder, batchKey string) []migration.Item {
	t.Helper()
	var all []migration.Item
	cursor := ""
	for {
		page, next, err := e.store.HeldItems(e.ctx, holder, batchKey, cursor, 1000)
		require.NoError(t, err)
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func (e *env) moveAll(t *testing.T, b migration.Batch) migration.Progress {
	t.Helper()
	p, err := e.m.Move(e.ctx, b.MigrationID, b.BatchID, time.Time{})
	require.NoError(t, err)
	require.True(t, p.Done)
	return p
}
