package dynamostore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// Past the retention period the audit trail keeps that the agreement was
// viewed and accepted, which version and which hash, by whom and when, and
// loses where the requests came from; records still inside the period keep
// it. The batch never held it. Running the job again changes nothing.
func TestRetentionReducesOnlyExpiredIPsAndUserAgents(t *testing.T) {
	e := newEnv(t, aliceApps(1).build(t))
	old := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	e.m.Now = func() time.Time { return old }
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	assert.Empty(t, b.Agreement.SourceIP, "the batch keeps the fact of acceptance, not where it came from")
	assert.Empty(t, b.Agreement.UserAgent)
	recent := old.AddDate(0, 6, 0)
	e.m.Now = func() time.Time { return recent }
	_, err := e.m.ViewAgreementIn(e.ctx, alice, migration.LangEN, migration.RequestMeta{SourceIP: "198.51.100.1", UserAgent: "recent"})
	require.NoError(t, err)

	cutoff := migration.Stamp(old.AddDate(0, 3, 0))
	n, more, err := e.store.ReduceAuditPersonalData(e.ctx, cutoff, migration.Stamp(recent), 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.True(t, more, "a limit per run; the rest next time")
	n, more, err = e.store.ReduceAuditPersonalData(e.ctx, cutoff, migration.Stamp(recent), 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the view and the acceptance of January: two records in all")
	assert.False(t, more)

	viewed := auditEvents(t, e, alice, migration.EventAgreementViewed)
	require.Len(t, viewed, 2)
	assert.Nil(t, viewed[0].Detail["sourceIp"], "January's view: no IP")
	assert.Nil(t, viewed[0].Detail["userAgent"])
	assert.Equal(t, migration.CurrentAgreement().SHA256, viewed[0].Detail["sha256"], "the version and hash stay")
	assert.Equal(t, "198.51.100.1", viewed[1].Detail["sourceIp"], "the recent view keeps it")
	accepted := auditEvents(t, e, alice, migration.EventAgreementAccepted)
	require.Len(t, accepted, 1)
	assert.Empty(t, accepted[0].Agreement.SourceIP)
	assert.Empty(t, accepted[0].Agreement.UserAgent)
	assert.Equal(t, migration.CurrentAgreement().SHA256, accepted[0].Agreement.SHA256)
	assert.Equal(t, "microapp:ma-1", accepted[0].Agreement.AcceptedBy)
	assert.NotEmpty(t, accepted[0].Agreement.AcceptedAt)

	n, _, err = e.store.ReduceAuditPersonalData(e.ctx, cutoff, migration.Stamp(recent), 0)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left past the period")
}
