package dynamostore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// Ops list the batches waiting on developers oldest first, optionally only
// those waiting longer than some age, and see where each one moved on to.
func TestBatchesInState(t *testing.T) {
	f := newFixture().subject("subj-a", migration.SubjectCompany)
	for _, id := range []string{"ma-1", "ma-2", "ma-3"} {
		f.account("microapp", id, id+"@example.com", "subj-a").miniprograms("microapp", id, "subj-a", "app-"+id, 1)
	}
	e := newEnv(t, f.build(t))
	clock := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	e.m.Now = func() time.Time { return clock }
	begin := func(acct string, at time.Time) string {
		clock = at
		res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-" + acct, Source: migration.AccountRef{Platform: "microapp", ID: acct}, RequestedBy: "ops:test"})
		require.NoError(t, err)
		require.Len(t, res.BatchIDs, 1)
		return res.BatchIDs[0]
	}
	// Begun out of order, so the listing's order comes from updatedAt.
	b2 := begin("ma-2", clock.Add(2*time.Hour))
	b1 := begin("ma-1", clock.Add(-time.Hour).Add(500*time.Millisecond))
	b3 := begin("ma-3", clock.Add(4*time.Hour))
	_, err := e.m.ViewAgreement(e.ctx, migration.AccountRef{Platform: "microapp", ID: "ma-3"}, migration.RequestMeta{})
	require.NoError(t, err)
	a := migration.CurrentAgreement()
	clock = clock.Add(time.Minute)
	_, err = e.m.AcceptAgreement(e.ctx, migration.AccountRef{Platform: "microapp", ID: "ma-3"}, "m-ma-3", b3, a.Version, a.SHA256, migration.RequestMeta{})
	require.NoError(t, err)

	ids := func(bs []migration.Batch) []string {
		out := []string{}
		for _, b := range bs {
			out = append(out, b.BatchID)
		}
		return out
	}
	all, err := e.store.BatchesInState(e.ctx, migration.AwaitingAgreement, time.Time{}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{b1, b2}, ids(all), "oldest first; ma-3 moved on")
	assert.Equal(t, "microapp:ma-1", all[0].Source.String())

	// Older than: updated before 11:00 (ma-2 at exactly 11:00 is not older).
	old, err := e.store.BatchesInState(e.ctx, migration.AwaitingAgreement, time.Date(2026, 11, 1, 11, 0, 0, 0, time.UTC), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{b1}, ids(old))
	old, err = e.store.BatchesInState(e.ctx, migration.AwaitingAgreement, time.Date(2026, 11, 1, 8, 0, 0, 400_000_000, time.UTC), 0)
	require.NoError(t, err)
	assert.Empty(t, ids(old), "a bound within the same second still compares exactly")

	first, err := e.store.BatchesInState(e.ctx, migration.AwaitingAgreement, time.Time{}, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{b1}, ids(first))

	target, err := e.store.BatchesInState(e.ctx, migration.AwaitingTarget, time.Time{}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{b3}, ids(target))
}

func TestMigrationsNewestFirst(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	clock := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	e.m.Now = func() time.Time { return clock }
	for _, id := range []string{"m-first", "m-second"} {
		e.endedMigration(t, id)
		clock = clock.Add(time.Hour)
	}
	ms, err := e.store.Migrations(e.ctx, alice)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, "m-second", ms[0].MigrationID)
	assert.Equal(t, "m-first", ms[1].MigrationID)
	latest, err := e.store.LatestMigration(e.ctx, alice)
	require.NoError(t, err)
	assert.Equal(t, "m-second", latest.MigrationID)

	none, err := e.store.Migrations(e.ctx, migration.AccountRef{Platform: "microapp", ID: "nobody"})
	require.NoError(t, err)
	assert.Empty(t, none)
}
