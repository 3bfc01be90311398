package dynamostore_test

import (
	"strings"

	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// Audit records go to the audit table (where the functions
// may only add), none to the data table, and the trail reads from there.
func TestAuditTrailInItsOwnTable(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	require.NotEqual(t, e.store.Table(), e.store.AuditTable())
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:test"})
	require.NoError(t, err)
	for _, row := range e.scanAll(t) {
		pk := row["pk"].(*types.AttributeValueMemberS).Value
		assert.False(t, strings.HasPrefix(pk, "AUDIT#"), "audit record %s in the data table", pk)
	}
	evs := auditEvents(t, e, alice, migration.EventMigrationStarted)
	assert.Len(t, evs, 1)
}
