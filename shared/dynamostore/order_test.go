package dynamostore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// Sort keys hold timestamps: events 100 ms and 150 ms into one second must
// come out in time order (RFC3339Nano's ".1Z" sorts after ".15Z").
func TestAuditTrailInTimeOrderWithinASecond(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	clock := base.Add(100 * time.Millisecond)
	e.m.Now = func() time.Time { return clock }
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:test"})
	require.NoError(t, err)
	clock = base.Add(150 * time.Millisecond)
	_, err = e.m.ViewAgreement(e.ctx, alice, migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "test"})
	require.NoError(t, err)
	clock = base.Add(time.Second)
	_, err = e.m.ViewAgreementIn(e.ctx, alice, migration.LangEN, migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "test"})
	require.NoError(t, err)

	evs, _, err := e.store.AuditTrail(e.ctx, alice, "", 100)
	require.NoError(t, err)
	var got []string
	var ats []time.Time
	for _, ev := range evs {
		got = append(got, ev.Event)
		at, err := time.Parse(time.RFC3339Nano, ev.At)
		require.NoError(t, err)
		ats = append(ats, at)
	}
	assert.Equal(t, []string{migration.EventMigrationStarted, migration.EventAgreementViewed, migration.EventAgreementViewed}, got)
	assert.True(t, ats[0].Before(ats[1]) && ats[1].Before(ats[2]), "audit times %v", ats)
}

// LatestMigration picks the newest migration even within one second.
func TestLatestMigrationWithinASecond(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	clock := base.Add(100 * time.Millisecond)
	e.m.Now = func() time.Time { return clock }
	for _, id := range []string{"m-first", "m-second"} {
		e.endedMigration(t, id)
		clock = base.Add(150 * time.Millisecond)
	}
	latest, err := e.store.LatestMigration(e.ctx, alice)
	require.NoError(t, err)
	assert.Equal(t, "m-second", latest.MigrationID)
	ms, err := e.store.Migrations(e.ctx, alice)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, "m-second", ms[0].MigrationID)
}
