package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// importFixture is one subject's account with two mini-programs and an empty
// developer account that a commit binds to the subject.
func importFixture() *fixture {
	return aliceApps(2).
		target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "")
}

func (e *env) scanAll(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	var rows []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: aws.String(e.store.Table()), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		require.NoError(t, err)
		rows = append(rows, page.Items...)
	}
	return rows
}

// Re-importing the same snapshot after a commit moves nothing
// back and leaves the bound target bound; the report says nothing was added.
func TestReimportAfterCommitMovesNothingBack(t *testing.T) {
	snap := importFixture().build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	e.moveAll(t, b)
	require.Empty(t, e.items(t, b.SourceHolder(), ""))
	before := e.scanAll(t)

	rep, err := e.store.Import(e.ctx, snap)
	require.NoError(t, err)
	assert.Empty(t, rep.Added)
	assert.Equal(t, map[string]int{"subjects": 1, "accounts": 1, "apps": 2, "data": 2, "orders": 2, "targetAccounts": 1}, rep.Unchanged)

	assert.Empty(t, e.items(t, b.SourceHolder(), ""), "nothing moved back to the source")
	assert.Len(t, e.items(t, b.TargetHolder(), ""), 6)
	acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-1")
	require.NoError(t, err)
	assert.Equal(t, "subj-a", acct.SubjectID, "the target stays bound")
	assert.ElementsMatch(t, before, e.scanAll(t), "the table is unchanged")
}

// A record that exists with other content refuses the import, naming it, and
// nothing of the snapshot is written (not even its new records).
func TestImportRefusesChangedRecord(t *testing.T) {
	e := newEnv(t, importFixture().build(t))
	before := e.scanAll(t)

	f := importFixture()
	f.Apps[1].Name = "renamed"
	f.Apps = append(f.Apps, migration.App{ID: "app-new", Platform: "microapp", Kind: migration.AppWeb, Name: "new",
		CreatorAccountID: "ma-1", SubjectID: "subj-a", Certified: true})
	_, err := e.store.Import(e.ctx, f.build(t))
	require.Error(t, err)
	assert.Equal(t, migration.CodeConflict, migration.ErrorCode(err))
	assert.Contains(t, err.Error(), `apps[1] (id "app-1"): exists with other content`)
	assert.ElementsMatch(t, before, e.scanAll(t), "nothing written")

	g := importFixture()
	g.TargetAccounts[0].Onboarding = migration.OnboardingApplied
	err = e.store.ImportSnapshot(e.ctx, g.build(t))
	assert.ErrorContains(t, err, `targetAccounts[0] (id "dev-1"): onboarding may only move forward`)
	assert.ElementsMatch(t, before, e.scanAll(t), "nothing written")
}

// A snapshot with one new app adds only that app.
func TestImportAddsOnlyWhatIsNew(t *testing.T) {
	e := newEnv(t, importFixture().build(t))
	before := len(e.scanAll(t))
	f := importFixture()
	f.Apps = append(f.Apps, migration.App{ID: "app-new", Platform: "microapp", Kind: migration.AppWeb, Name: "new",
		CreatorAccountID: "ma-1", SubjectID: "subj-a", Certified: true})
	rep, err := e.store.Import(e.ctx, f.build(t))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"apps": 1}, rep.Added)
	assert.Equal(t, 2, rep.Unchanged["apps"])
	assert.Len(t, e.scanAll(t), before+1)
	it, err := e.store.Item(e.ctx, migration.ItemApp, "app-new")
	require.NoError(t, err)
	assert.Equal(t, "subj-a/developer", it.BatchKey)
}
