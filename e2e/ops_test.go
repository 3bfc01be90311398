package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func inputFile(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "in.json")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return "file://" + p
}

type execOutput struct {
	MigrationID       string `json:"migrationId"`
	ActiveMigrationID string `json:"activeMigrationId"`
	State             string `json:"state"`
	Batches           []struct {
		BatchKey        string `json:"batchKey"`
		State           string `json:"state"`
		TargetPlatform  string `json:"targetPlatform"`
		TargetAccountID string `json:"targetAccountId"`
	} `json:"batches"`
}

func output(t *testing.T, exec map[string]any) execOutput {
	t.Helper()
	require.Equal(t, "SUCCEEDED", exec["status"], "%v", exec)
	var out execOutput
	require.NoError(t, json.Unmarshal([]byte(str(exec["output"])), &out))
	return out
}

// Ops migrate a system service provider with the real aws CLI (docs/CONTRACT.md
// §3): agreement, targets and confirmation pre-recorded, nothing waits.
// Apps go to developer, services and the provider identity to partner (rule 5).
func TestOpsMigrationWithAWSCLI(t *testing.T) {
	s := sharedDemoStack(t)
	started := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", s.StateMachineARN, "--name", "ops-carol-1", "--input", inputFile(t, carolOps()))
	out := output(t, waitExecution(t, s, str(started["executionArn"]), 90*time.Second))
	assert.Equal(t, "ops-carol-1", out.MigrationID)
	assert.Equal(t, "COMPLETED", out.State)
	got := map[string]string{}
	for _, b := range out.Batches {
		assert.Equal(t, "COMMITTED", b.State, b.BatchKey)
		got[b.BatchKey] = b.TargetPlatform
	}
	assert.Equal(t, map[string]string{"subj-acme/developer": "developer", "subj-cloud/developer": "developer", "subj-cloud/partner": "partner"}, got)

	carol := developer(t, s, "douyin_open_legacy", "dl-3003", "carol@example.com")
	partner := carol.do("GET", "/v1/targets/partner/accounts/par-carol-1", nil)
	assert.Len(t, list(partner.Body["services"]), 2, partner.Raw)
	assert.Len(t, list(partner.Body["identities"]), 1)

	status := carol.do("GET", "/v1/migrations/ops-carol-1", nil)
	assert.Equal(t, "COMPLETED", status.Body["state"], "the developer sees the ops migration too")
	for _, b := range list(status.Body["batches"]) {
		ag := obj(obj(b)["agreement"])
		assert.Equal(t, "ops:ops:alice", ag["channel"], "the agreement came through ops")
	}
}

// An account needing no migration ends at once with NO_MIGRATION_NEEDED (rule
// 1); a second execution for an account with an active migration starts
// nothing and names the active one.
func TestOpsEdgeCases(t *testing.T) {
	s := sharedDemoStack(t)
	dave := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", s.StateMachineARN, "--name", "ops-dave",
		"--input", inputFile(t, map[string]any{"source": map[string]any{"platform": "third_party", "accountId": "tp-4004"}, "requestedBy": "ops:bob"}))
	assert.Equal(t, "NO_MIGRATION_NEEDED", output(t, waitExecution(t, s, str(dave["executionArn"]), 60*time.Second)).State)

	// The same answer over HTTP: nothing certified to move, register directly.
	daveDev := developer(t, s, "third_party", "tp-4004", "dave@example.com")
	assets := daveDev.do("GET", "/v1/assets", nil)
	assert.Equal(t, false, assets.Body["eligible"])
	assert.Equal(t, "NO_MIGRATION_NEEDED", assets.Body["reason"])
	assert.NotEmpty(t, list(assets.Body["skipped"]), "the uncertified app is listed with its reason")
	started := daveDev.do("POST", "/v1/migrations", nil)
	require.Equal(t, 202, started.Status, started.Raw)
	assert.Equal(t, "NO_MIGRATION_NEEDED", started.Body["state"])
	assert.Empty(t, list(started.Body["batches"]))
	out := output(t, waitExecution(t, s, str(started.Body["executionArn"]), 60*time.Second))
	assert.Equal(t, "NO_MIGRATION_NEEDED", out.State)

	erin := map[string]any{"source": map[string]any{"platform": "microapp", "accountId": "ma-5005"}, "requestedBy": "ops:bob"}
	first := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", s.StateMachineARN, "--name", "erin-1", "--input", inputFile(t, erin))
	dev := developer(t, s, "microapp", "ma-5005", "erin@example.com")
	eventually(t, 30*time.Second, "erin-1 to wait for the agreement", func() bool {
		st := dev.do("GET", "/v1/migrations/erin-1", nil)
		return st.Status == 200 && len(list(st.Body["batches"])) == 1
	})
	second := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", s.StateMachineARN, "--name", "erin-2", "--input", inputFile(t, erin))
	out = output(t, waitExecution(t, s, str(second["executionArn"]), 60*time.Second))
	assert.Equal(t, "erin-1", out.ActiveMigrationID)
	desc := awsCLI(t, s, "stepfunctions", "describe-execution", "--execution-arn", str(first["executionArn"]))
	assert.Equal(t, "RUNNING", desc["status"], "the first one still waits for erin")

	bad := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", s.StateMachineARN, "--name", "bad-input",
		"--input", inputFile(t, map[string]any{"source": map[string]any{"platform": "nowhere", "accountId": "x"}, "requestedBy": "ops"}))
	failed := waitExecution(t, s, str(bad["executionArn"]), 60*time.Second)
	assert.Equal(t, "FAILED", failed["status"])
	assert.Equal(t, "InvalidInput", failed["error"])
}

// Rule 13: a batch that waits on the developer past the timeout ends EXPIRED,
// nothing moved, and the developer may start again.
func TestPendingBatchExpires(t *testing.T) {
	s := startStack(t, map[string]string{"PendingTimeoutSeconds": "3"}, nil)
	erin := developer(t, s, "microapp", "ma-5005", "erin@example.com")
	start := erin.do("POST", "/v1/migrations", nil)
	require.Equal(t, 202, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	eventually(t, 60*time.Second, "the batch to expire", func() bool {
		return erin.do("GET", "/v1/migrations/"+mid, nil).Body["state"] == "COMPLETED"
	})
	b := obj(list(erin.do("GET", "/v1/migrations/"+mid, nil).Body["batches"])[0])
	assert.Equal(t, "EXPIRED", b["state"])
	assert.Equal(t, float64(0), obj(b["progress"])["moved"])
	assert.Equal(t, true, erin.do("GET", "/v1/plan", nil).Body["eligible"], "nothing moved")
	eventually(t, 30*time.Second, "the account to be free for a new migration", func() bool {
		again := erin.do("POST", "/v1/migrations", nil)
		return again.Status == 202 && str(again.Body["migrationId"]) != mid
	})
}
