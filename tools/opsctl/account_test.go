package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// A developer migrates one of two batches through the HTTP API; ops then see
// it with show, and export the audit trail that proves each step (rule 14).
func TestShowAndAuditAfterDeveloperMigration(t *testing.T) {
	s := localStack(t)
	c := awsClients(s)
	alice := newDeveloper(t, s, "microapp", "ma-1001", "alice@example.com")

	start := alice.do("POST", "/v1/migrations", map[string]any{}, 202)
	mid, _ := start["migrationId"].(string)
	require.NotEmpty(t, mid)
	acme := batchIn(t, c, mid, migration.AwaitingAgreement, time.Minute)
	if acme.BatchKey != "subj-acme/developer" { // two batches wait; take acme's
		bs, err := c.store.Batches(t.Context(), mid)
		require.NoError(t, err)
		for _, b := range bs {
			if b.BatchKey == "subj-acme/developer" {
				acme = b
			}
		}
	}
	base := "/v1/migrations/" + mid + "/batches/" + acme.BatchID
	ag := alice.do("GET", "/v1/agreement", nil, 200)
	alice.do("POST", base+"/agreement", map[string]any{"version": ag["version"], "sha256": ag["sha256"]}, 200)
	alice.do("PUT", base+"/target", map[string]any{"mode": "existing", "accountId": "dev-alice-1"}, 200)
	alice.do("POST", base+"/commit", map[string]any{"confirm": true}, 202)
	batchIn(t, c, mid, migration.Committed, time.Minute)

	code, out := opsctl(t, s.AWSEndpoint, "show", "--account", "microapp:ma-1001")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "migration   "+mid+"  IN_PROGRESS  requested by developer:microapp:ma-1001")
	assert.Contains(t, out, "execution   arn:aws:states:")
	assert.Regexp(t, `subj-acme/developer\s+COMMITTED\s+\S+\s+-\s+7/7\s+dev-alice-1\s+none: committed to tgt:developer:dev-alice-1`, out)
	assert.Regexp(t, `subj-bright/developer\s+AWAITING_AGREEMENT\s+\S+\s+\d+s\s+0/\d+\s+-\s+developer: ACCEPT_AGREEMENT`, out)

	code, out = opsctl(t, s.AWSEndpoint, "show", "--account", "microapp:ma-1001", "--json")
	require.Equal(t, exitOK, code, out)
	var v migrationView
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, "RUNNING", v.ExecutionStatus)
	assert.Len(t, v.Batches, 2)

	code, out = opsctl(t, s.AWSEndpoint, "show", "--account", "microapp:ma-nobody")
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, out, "account microapp:ma-nobody has no migration")

	file := filepath.Join(t.TempDir(), "audit.jsonl")
	code, out = opsctl(t, s.AWSEndpoint, "audit", "--account", "microapp:ma-1001", "--out", file)
	require.Equal(t, exitOK, code, out)
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	byEvent := map[string]migration.AuditEvent{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var ev migration.AuditEvent
		require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
		assert.Equal(t, "microapp:ma-1001", ev.Account)
		byEvent[ev.Event] = ev
	}
	assert.Contains(t, out, "audit event(s) of microapp:ma-1001 written to "+file)
	for _, e := range []string{migration.EventMigrationStarted, migration.EventAgreementViewed, migration.EventAgreementAccepted,
		migration.EventTargetSelected, migration.EventCommitStarted, migration.EventBatchCommitted} {
		assert.Contains(t, byEvent, e)
	}
	viewed := byEvent[migration.EventAgreementViewed]
	assert.Equal(t, ag["version"], viewed.Detail["version"])
	assert.Equal(t, "127.0.0.1", viewed.Detail["sourceIp"])
	assert.Equal(t, "opsctl-test-browser/1.0", viewed.Detail["userAgent"])
	accepted := byEvent[migration.EventAgreementAccepted]
	require.NotNil(t, accepted.Agreement)
	assert.Equal(t, ag["version"], accepted.Agreement.Version)
	assert.Equal(t, ag["sha256"], accepted.Agreement.SHA256)
	assert.Equal(t, "127.0.0.1", accepted.Agreement.SourceIP)
	assert.Equal(t, "opsctl-test-browser/1.0", accepted.Agreement.UserAgent)
	assert.Equal(t, acme.BatchID, accepted.BatchID)
	require.NotNil(t, byEvent[migration.EventTargetSelected].Target)
	assert.Equal(t, "dev-alice-1", byEvent[migration.EventTargetSelected].Target.AccountID)
	assert.Equal(t, migration.Committing, byEvent[migration.EventCommitStarted].To)
	assert.Equal(t, migration.Committed, byEvent[migration.EventBatchCommitted].To)

	// To stdout, the same lines.
	code, out = opsctl(t, s.AWSEndpoint, "audit", "--account", "microapp:ma-1001")
	require.Equal(t, exitOK, code)
	assert.Equal(t, string(raw), out)
}

func TestAccountFlagIsChecked(t *testing.T) {
	code, out := opsctl(t, "http://127.0.0.1:1", "show", "--account", "ma-1001")
	assert.Equal(t, exitError, code)
	assert.Contains(t, out, "--account must be <platform>:<accountId>")
}
