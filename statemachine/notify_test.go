package statemachine

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// load reads a definition with every placeholder replaced by a number, enough
// to walk its structure.
func load(t *testing.T, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	def := regexp.MustCompile(`"\$\{[A-Za-z0-9_]+\}"`).ReplaceAllString(string(raw), `"x"`)
	def = placeholder.ReplaceAllString(def, "1")
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(def), &m))
	return m
}

func states(block map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for k, v := range block["States"].(map[string]any) {
		out[k] = v.(map[string]any)
	}
	return out
}

// The notification comes after the move is done and can never fail the
// batch: every state between MovedAll and BatchEnded catches everything and
// goes on to BatchEnded, and the event carries ids and counts only, and where
// the list of what moved is (the manifest: a claim check, never the list).
func TestNotificationNeverFailsTheBatch(t *testing.T) {
	branch := states(states(load(t, "migration.asl.json"))["Batches"]["ItemProcessor"].(map[string]any))
	moved := branch["MovedAll"]["Choices"].([]any)[0].(map[string]any)
	require.Equal(t, true, moved["BooleanEquals"])

	seen := map[string]bool{}
	for name := moved["Next"].(string); name != "BatchEnded" && name != ""; {
		require.False(t, seen[name], "a loop after the move: %s", name)
		seen[name] = true
		st := branch[name]
		switch st["Type"] {
		case "Task":
			assert.False(t, strings.Contains(st["Resource"].(string), ":lambda:"), "%s: no function runs after the commit", name)
			catches := st["Catch"].([]any)
			last := catches[len(catches)-1].(map[string]any)
			assert.Equal(t, []any{"States.ALL"}, last["ErrorEquals"], "%s catches everything", name)
			assert.Equal(t, "BatchEnded", last["Next"], "%s: a failure skips to the batch's end", name)
			assert.NotEqual(t, "$", st["ResultPath"], "%s keeps the branch's ids", name)
			name, _ = st["Next"].(string) // "" where the branch ends
		case "Choice":
			assert.Equal(t, "BatchEnded", st["Default"], "%s: when in doubt, end the batch", name)
			name = st["Choices"].([]any)[0].(map[string]any)["Next"].(string)
		default:
			t.Fatalf("%s: unexpected %v after the move", name, st["Type"])
		}
	}
	notify := branch["NotifyCommitted"]
	require.NotNil(t, notify, "the branch notifies")
	assert.True(t, seen["NotifyCommitted"], "NotifyCommitted is on the path from MovedAll")
	assert.Equal(t, "arn:aws:states:::events:putEvents", notify["Resource"], "not .waitForTaskToken: nothing waits on a consumer")
	entries := notify["Parameters"].(map[string]any)["Entries"].([]any)
	require.Len(t, entries, 1)
	detail := entries[0].(map[string]any)["Detail"].(map[string]any)
	var keys []string
	for k := range detail {
		keys = append(keys, strings.TrimSuffix(k, ".$"))
	}
	assert.ElementsMatch(t, []string{"schemaVersion", "migrationId", "batchId", "batchKey", "targetPlatform", "targetAccountId", "moved", "total", "manifest"}, keys,
		"ids and counts only, and the manifest's place")
	assert.Equal(t, "$.progress.manifest", detail["manifest.$"], "the manifest the Move step wrote")
}

// The bulk machine starts migrations and does not wait for them; names are
// deterministic, so a redriven run cannot start an account twice.
func TestBulkStartsAndDoesNotWait(t *testing.T) {
	top := states(load(t, "bulk.asl.json"))
	m := top["StartCohort"]
	proc := m["ItemProcessor"].(map[string]any)
	assert.Equal(t, "DISTRIBUTED", proc["ProcessorConfig"].(map[string]any)["Mode"])
	assert.Equal(t, "arn:aws:states:::s3:getObject", m["ItemReader"].(map[string]any)["Resource"])
	assert.Contains(t, m, "ResultWriter")
	assert.Contains(t, m, "MaxConcurrencyPath")
	assert.Contains(t, m, "ToleratedFailurePercentagePath")
	start := states(proc)["StartMigration"]
	assert.Equal(t, "arn:aws:states:::states:startExecution", start["Resource"], "not .sync: a cohort waiting on developers must not hold the run open")
	name := start["Parameters"].(map[string]any)["Name.$"].(string)
	assert.Contains(t, name, "States.Hash(", "the name is derived from the row, never random")
	assert.NotContains(t, name, "UUID")
	var caught []any
	for _, c := range start["Catch"].([]any) {
		caught = append(caught, c.(map[string]any)["ErrorEquals"].([]any)...)
	}
	assert.Contains(t, caught, "StepFunctions.ExecutionAlreadyExistsException", "a row started before is done, not failed")
}
