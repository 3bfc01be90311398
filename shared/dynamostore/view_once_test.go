package dynamostore_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// Reading the agreement again and again, one at a time or all at once,
// records the view once per account and text: the audit trail does not grow
// with every read, and accepting still finds the view.
func TestAgreementViewRecordedOncePerText(t *testing.T) {
	e := newEnv(t, aliceApps(1).build(t))
	meta := migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "reader"}
	for range 5 {
		_, err := e.m.ViewAgreement(e.ctx, alice, meta)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.m.ViewAgreementIn(e.ctx, alice, migration.LangEN, meta)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	evs, _, err := e.store.AuditTrail(e.ctx, alice, "", 100)
	require.NoError(t, err)
	views := 0
	for _, ev := range evs {
		if ev.Event == migration.EventAgreementViewed {
			views++
		}
	}
	assert.Equal(t, 2, views, "one view of the Chinese text and one of the English, however often each was read")

	zh, _ := migration.AgreementIn(migration.LangZH)
	viewed, err := e.store.HasViewed(e.ctx, alice, zh.Version, zh.SHA256)
	require.NoError(t, err)
	assert.True(t, viewed)
}
