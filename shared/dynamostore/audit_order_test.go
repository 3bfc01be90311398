package dynamostore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// The trail of one account is in the order its records were written, whatever
// the writers' clocks say: a Lambda host whose clock runs an hour ahead
// writes first, one on time writes next, and the trail reads them in that
// order (not by their timestamps, which disagree).
func TestAuditTrailInWriteOrderWhateverTheClocks(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	e.m.Now = func() time.Time { return base.Add(time.Hour) } // a fast host
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:test"})
	require.NoError(t, err)
	e.m.Now = func() time.Time { return base } // a host on time, writing after it
	_, err = e.m.ViewAgreement(e.ctx, alice, migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "test"})
	require.NoError(t, err)
	e.m.Now = func() time.Time { return base.Add(-time.Minute) } // a slow one, last
	_, err = e.m.ViewAgreementIn(e.ctx, alice, migration.LangEN, migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "test"})
	require.NoError(t, err)

	evs, _, err := e.store.AuditTrail(e.ctx, alice, "", 100)
	require.NoError(t, err)
	var got, ats []string
	for _, ev := range evs {
		got = append(got, ev.Event)
		ats = append(ats, ev.At)
	}
	assert.Equal(t, []string{migration.EventMigrationStarted, migration.EventAgreementViewed, migration.EventAgreementViewed}, got,
		"write order, though the times say otherwise: %v", ats)
	assert.Equal(t, migration.SortableTime(base.Add(time.Hour).Format(time.RFC3339Nano)), migration.SortableTime(evs[0].At), "each record keeps its writer's time")
}

// Writers racing on one account's trail each get their own place in it:
// nothing is lost or overwritten, and every record is there once.
func TestAuditTrailConcurrentWritersLoseNothing(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Views of distinct texts: a view is recorded once per text.
			a := migration.Agreement{Version: fmt.Sprintf("v-%d", i), SHA256: fmt.Sprintf("%064d", i)}
			errs[i] = e.store.RecordView(e.ctx, alice, a, migration.AuditEvent{At: migration.SortableTime(time.Now().UTC().Format(time.RFC3339Nano)),
				Event: migration.EventAgreementViewed, Account: alice.String(), Actor: alice.String(), Detail: map[string]any{"version": a.Version}})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	evs, _, err := e.store.AuditTrail(e.ctx, alice, "", 100)
	require.NoError(t, err)
	assert.Len(t, evs, writers, "one record per write")
}
