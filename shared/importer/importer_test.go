package importer_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// moto servers, each test its own, with the template's tables: the import's
// reads, conditional puts and transactions run against real DynamoDB
// semantics.
var motos stacktest.MotoPool

func TestMain(m *testing.M) {
	code := m.Run()
	_ = motos.Close()
	os.Exit(code)
}

type env struct {
	endpoint string
	db       *dynamodb.Client
	store    *dynamostore.Store
	ctx      context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	srv := motos.Get(t)
	db := dynamodb.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
	table, audit, err := stack.DeployTables(ctx, db, "../..")
	require.NoError(t, err)
	return &env{endpoint: srv.Endpoint, db: db, store: dynamostore.New(db, table).WithAuditTable(audit), ctx: ctx}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

// rows is the table's every row, as a set of comparable strings.
func (e *env) rows(t *testing.T) map[string]bool {
	t.Helper()
	return stacktest.RowSet(t, e.db, e.store.Table())
}

func (e *env) reconcileClean(t *testing.T) {
	t.Helper()
	recs, err := dynamostore.ScanRecords(e.ctx, e.db, e.store.Table(), 2, e.store.AuditTable())
	require.NoError(t, err)
	rep := reconcile.Check(recs.Records, time.Now())
	require.True(t, rep.OK(), rep.Text())
}

// A JSON Lines input with bad records is refused whole: each refused record
// named with its line, nothing written; --dry-run of a good one writes
// nothing either; the import then adds it, and again adds nothing.
func TestImportChecksWholeInputFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := writeFile(t, "bad.jsonl", `{"type":"subject","id":"s-1","name":"S","kind":"company","certified":true}
{"type":"account","platform":"microapp","id":"a-1","login":"a@example.com","subjectId":"s-1"}
{"type":"app","id":"app-1","platform":"microapp","kind":"miniprogram","name":"A","creatorAccountId":"a-1","subjectId":"s-1","certified":true}
{"type":"order","id":"o-1","assetId":"app-404","amountCents":1,"currency":"CNY","status":"paid"}
{"type":"gadget","id":"g-1"}

{"type":"app","id":"app-1","platform":"microapp","kind":"web_app","name":"A2","creatorAccountId":"a-1","subjectId":"s-1","certified":true}
{"type":"data","id":"d-1","assetId":"app-1","kind":"analytics","Kind":"x"}
`)
	var refused []importer.Refusal
	sum, err := importer.Run(e.ctx, importer.FileSource{Path: bad}, e.store.ImportTable(), importer.Options{Refused: func(r importer.Refusal) { refused = append(refused, r) }})
	require.ErrorIs(t, err, importer.ErrRefused)
	assert.Equal(t, 4, sum.Refused)
	lines := map[int]string{}
	for _, r := range refused {
		lines[r.Line] = r.String()
	}
	assert.Contains(t, lines[4], `assetId "app-404" is not an app or service`)
	assert.Contains(t, lines[5], `type "gadget"`)
	assert.Contains(t, lines[7], "duplicate id")
	assert.Contains(t, lines[8], "line 8")
	assert.Empty(t, e.rows(t), "nothing written")

	good := writeFile(t, "good.jsonl", `{"type":"app","id":"app-1","platform":"microapp","kind":"miniprogram","name":"A","creatorAccountId":"a-1","subjectId":"s-1","certified":true}
{"type":"data","id":"d-1","assetId":"app-1","kind":"analytics"}
{"type":"account","platform":"microapp","id":"a-1","login":"a@example.com","subjectId":"s-1"}
{"type":"subject","id":"s-1","name":"S","kind":"company","certified":true}
`)
	sum, err = importer.Run(e.ctx, importer.FileSource{Path: good}, e.store.ImportTable(), importer.Options{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Added, "a dry run says what it would add")
	assert.Empty(t, e.rows(t), "and adds nothing")

	sum, err = importer.Run(e.ctx, importer.FileSource{Path: good}, e.store.ImportTable(), importer.Options{})
	require.NoError(t, err)
	assert.Equal(t, importer.Summary{Added: 4, ByType: map[string]*importer.Counts{"subjects": {Added: 1}, "accounts": {Added: 1}, "apps": {Added: 1}, "data": {Added: 1}}}, sum)
	before := e.rows(t)
	sum, err = importer.Run(e.ctx, importer.FileSource{Path: good}, e.store.ImportTable(), importer.Options{})
	require.NoError(t, err)
	assert.Equal(t, 0, sum.Added)
	assert.Equal(t, 4, sum.Unchanged)
	assert.Equal(t, before, e.rows(t))

	// A later file refers to what the table holds.
	more := writeFile(t, "more.jsonl", `{"type":"order","id":"o-2","assetId":"app-1","amountCents":5,"currency":"CNY","status":"paid"}
`)
	sum, err = importer.Run(e.ctx, importer.FileSource{Path: more}, e.store.ImportTable(), importer.Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Added)
	e.reconcileClean(t)
}

// The snapshot form streams too, and names a refused record by its list,
// index and line.
func TestImportSnapshotFormNamesLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := writeFile(t, "snap.json", `{
  "version": 1,
  "subjects": [
    {"id": "s-1", "name": "S", "kind": "company", "certified": true}
  ],
  "accounts": [
    {"platform": "microapp", "id": "a-1", "login": "a@example.com", "subjectId": "s-9"}
  ]
}`)
	var refused []importer.Refusal
	_, err := importer.Run(e.ctx, importer.FileSource{Path: p}, e.store.ImportTable(), importer.Options{Refused: func(r importer.Refusal) { refused = append(refused, r) }})
	require.ErrorIs(t, err, importer.ErrRefused)
	require.Len(t, refused, 1)
	assert.Equal(t, `accounts[0] (id "a-1"), line 7: subjectId "s-9" is not a subject`, refused[0].String())

	f, err := os.Create(filepath.Join(t.TempDir(), "gen.jsonl"))
	require.NoError(t, err)
	require.NoError(t, demo.WriteRecords(f, 500))
	require.NoError(t, f.Close())
	sum, err := importer.Run(e.ctx, importer.FileSource{Path: f.Name()}, e.store.ImportTable(), importer.Options{})
	require.NoError(t, err)
	assert.Equal(t, 500, sum.Added)
	e.reconcileClean(t)
}
