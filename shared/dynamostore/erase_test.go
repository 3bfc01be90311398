package dynamostore_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// everything reads both tables whole, as JSON text per item.
func everything(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	for _, table := range []string{e.store.Table(), e.store.AuditTable()} {
		p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: aws.String(table)})
		for p.HasMorePages() {
			page, err := p.NextPage(e.ctx)
			require.NoError(t, err)
			for _, item := range page.Items {
				var m map[string]any
				require.NoError(t, attributevalue.UnmarshalMap(item, &m))
				out = append(out, strings.ToLower(strings.Join(flatten(m), "|")))
			}
		}
	}
	return out
}

func flatten(v any) []string {
	switch v := v.(type) {
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, k)
			out = append(out, flatten(v[k])...)
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, flatten(e)...)
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

func count(rows []string, what string) int {
	n := 0
	for _, r := range rows {
		if strings.Contains(r, strings.ToLower(what)) {
			n++
		}
	}
	return n
}

// Erasing alice: her login (in both of her old-platform accounts, her target
// account and its login index key, her migration and batch) becomes one
// pseudonym, her IPs and user agents are gone from both tables, bob's stay;
// the migration stays verifiable: reconcile is clean and her receipt's hash
// is the one issued before. A dry run changes nothing; a second run finds
// nothing more.
func TestEraseLeavesNoLoginIPOrUserAgent(t *testing.T) {
	snap := aliceApps(2).account("douyin_open_legacy", "dl-1", "Alice@Example.com", "").
		account("microapp", "ma-2", "bob@example.com", "").
		target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "").build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	e.moveAll(t, b)
	_, err = e.m.Summarize(e.ctx, b.MigrationID) // the migration ends, its claim freed
	require.NoError(t, err)
	bob := migration.AccountRef{Platform: "microapp", ID: "ma-2"}
	_, err = e.m.ViewAgreement(e.ctx, bob, migration.RequestMeta{SourceIP: "198.51.100.7", UserAgent: "bob-browser"})
	require.NoError(t, err)
	before, err := e.m.Receipt(e.ctx, alice, b.MigrationID, b.BatchID, "", 0)
	require.NoError(t, err)

	rows := everything(t, e)
	require.Positive(t, count(rows, "alice@example.com"), "the control: her login is there")
	require.Positive(t, count(rows, "203.0.113.9"), "and her IP")

	eraser := &dynamostore.Eraser{DB: e.db, Store: e.store}
	req := dynamostore.EraseRequest{Account: alice, Operator: "ops:test", At: migration.Stamp(time.Now())}
	_, err = eraser.Erase(e.ctx, req)
	assert.True(t, migration.IsCode(err, migration.CodeInvalidInput), "no reason, no erasure: %v", err)

	req.Reason, req.DryRun = "PRIV-1", true
	dry, err := eraser.Erase(e.ctx, req)
	require.NoError(t, err)
	assert.Equal(t, []string{"douyin_open_legacy:dl-1", "microapp:ma-1"}, dry.Accounts, "every account of her login")
	assert.Positive(t, dry.Changed)
	assert.Equal(t, rows, everything(t, e), "a dry run changes nothing")

	req.DryRun = false
	rep, err := eraser.Erase(e.ctx, req)
	require.NoError(t, err)
	assert.Equal(t, dry.Changed, rep.Changed, "the dry run said what would change")
	after := everything(t, e)
	assert.Zero(t, count(after, "alice@example.com"), "no login of hers, in any case, anywhere")
	assert.Zero(t, count(after, "203.0.113.9"), "no IP of hers")
	assert.Zero(t, count(after, "useragent|test"), "no user agent of hers")
	assert.Positive(t, count(after, "198.51.100.7"), "bob's IP stays")
	assert.Positive(t, count(after, "bob@example.com"), "bob's login stays")
	assert.Positive(t, count(after, rep.Pseudonym), "the pseudonym stands where the login stood")

	// Still hers, still verifiable.
	acct, err := e.store.SourceAccount(e.ctx, alice)
	require.NoError(t, err)
	assert.Equal(t, rep.Pseudonym, acct.Login)
	cands, err := e.store.TargetCandidates(e.ctx, migration.TargetDeveloper, rep.Pseudonym)
	require.NoError(t, err)
	require.Len(t, cands, 1, "the login index key follows the pseudonym")
	assert.Equal(t, "dev-1", cands[0].ID)
	recs, err := dynamostore.ScanRecords(e.ctx, e.db, e.store.Table(), 1, e.store.AuditTable())
	require.NoError(t, err)
	rc := reconcile.Check(recs.Records, time.Now())
	assert.True(t, rc.OK(), rc.Text())
	again, err := e.m.Receipt(e.ctx, alice, b.MigrationID, b.BatchID, "", 0)
	require.NoError(t, err)
	assert.Equal(t, before.SHA256, again.SHA256, "the receipt's hash covers the items, which the erasure does not touch")
	erased := auditEvents(t, e, alice, dynamostore.EventPersonalDataErased)
	require.Len(t, erased, 1, "the erasure is audited")
	assert.Equal(t, "PRIV-1", erased[0].Detail["reason"])
	assert.Equal(t, "ops:test", erased[0].Actor)

	second, err := eraser.Erase(e.ctx, dynamostore.EraseRequest{Account: alice, Reason: "PRIV-1", Operator: "ops:test", At: migration.Stamp(time.Now())})
	require.NoError(t, err)
	assert.Zero(t, second.Changed, "nothing left to erase")
	assert.Equal(t, rep.Pseudonym, second.Pseudonym)
}

// An erasure waits for the account's migration to end: what runs would
// write the login again.
func TestEraseRefusedWhileMigrating(t *testing.T) {
	e := newEnv(t, aliceApps(1).build(t))
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	_, err = (&dynamostore.Eraser{DB: e.db, Store: e.store}).Erase(e.ctx,
		dynamostore.EraseRequest{Account: alice, Reason: "PRIV-2", Operator: "ops:test", At: migration.Stamp(time.Now())})
	assert.True(t, migration.IsCode(err, migration.CodeWrongStep), "%v", err)
	acct, err := e.store.SourceAccount(e.ctx, alice)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", acct.Login, "nothing changed")
}
