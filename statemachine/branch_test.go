package statemachine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every batch gets its branch at once, whatever the count: an inline Map runs
// at most 40 branches at once on AWS, so the batches run as a Distributed
// Map's child executions, without a concurrency cap.
func TestEveryBatchGetsItsBranchAtOnce(t *testing.T) {
	m := states(load(t, "migration.asl.json"))["Batches"]
	proc := m["ItemProcessor"].(map[string]any)["ProcessorConfig"].(map[string]any)
	assert.Equal(t, "DISTRIBUTED", proc["Mode"])
	assert.Equal(t, "STANDARD", proc["ExecutionType"], "callback waits need Standard child executions")
	assert.Equal(t, float64(0), m["MaxConcurrency"], "no cap: a branch per batch")
	assert.Equal(t, "$.deadline", m["ItemSelector"].(map[string]any)["deadline.$"], "each branch starts with the batch's deadline")
	assert.Nil(t, m["ResultPath"], "branch outputs are dropped: the Map's output stays small whatever the count")
}

// No branch ever fails, so one batch's trouble never strands its siblings: the
// move's last resort is Stall (the batch stays COMMITTING with its error), and
// every Task in the branch catches States.ALL.
func TestNoBranchFails(t *testing.T) {
	batches := states(load(t, "migration.asl.json"))["Batches"]
	// What no Catch can catch (States.Runtime, States.DataLimitExceeded) still
	// fails one child execution: the Map Run tolerates it, or AWS would stop
	// every sibling (the default tolerance is 0).
	assert.Equal(t, 100.0, batches["ToleratedFailurePercentage"], "one failed branch never stops its siblings")
	branch := states(batches["ItemProcessor"].(map[string]any))
	for name, st := range branch {
		if st["Type"] == "Fail" {
			t.Errorf("%s: a Fail state would fail the Map and strand the other batches", name)
		}
		if st["Type"] != "Task" {
			continue
		}
		assert.True(t, catches(st, "States.ALL"), "%s catches everything", name)
	}
	move := branch["Move"]
	var stall map[string]any
	for _, c := range move["Catch"].([]any) {
		if c.(map[string]any)["Next"] == "Stall" {
			stall = c.(map[string]any)
		}
	}
	require.NotNil(t, stall, "a move that fails for good stalls the batch")
	assert.Equal(t, []any{"States.ALL"}, stall["ErrorEquals"])
	payload := branch["Stall"]["Parameters"].(map[string]any)["Payload"].(map[string]any)
	assert.Equal(t, "stall", payload["action"])
	assert.Equal(t, "BatchEnded", branch["Stall"]["Next"])
}

// A target taken at the point of no return sends the branch back to the
// target wait, with the deadline the failure carries.
func TestTakenTargetWaitsForAnotherChoice(t *testing.T) {
	branch := states(states(load(t, "migration.asl.json"))["Batches"]["ItemProcessor"].(map[string]any))
	var next string
	for _, c := range branch["AwaitConfirmation"]["Catch"].([]any) {
		for _, e := range c.(map[string]any)["ErrorEquals"].([]any) {
			if e == "TargetTaken" {
				next = c.(map[string]any)["Next"].(string)
			}
		}
	}
	// The failure's cause carries the deadline; one that arrives without a
	// cause keeps the deadline the confirmation wait started with.
	require.Equal(t, "TakenWithDeadline", next)
	choice := branch["TakenWithDeadline"]
	require.Equal(t, "Choice", choice["Type"])
	assert.Equal(t, "ChooseTargetAgain", choice["Choices"].([]any)[0].(map[string]any)["Next"])
	assert.Equal(t, "ChooseTargetAgainSameDeadline", choice["Default"])
	again := branch["ChooseTargetAgain"]
	assert.Equal(t, "AwaitTarget", again["Next"])
	assert.Equal(t, "States.StringToJson($.taken.Cause)", again["Parameters"].(map[string]any)["deadline.$"])
	same := branch["ChooseTargetAgainSameDeadline"]
	assert.Equal(t, "AwaitTarget", same["Next"])
	assert.Equal(t, "$.deadline", same["Parameters"].(map[string]any)["deadline.$"])
	for _, wait := range []string{"AwaitAgreement", "AwaitTarget"} {
		assert.Equal(t, "$.deadline", branch[wait]["ResultPath"], "%s: its answer carries the next wait's deadline", wait)
	}
}

// A step outside the batches' branches that fails for good (listing,
// splitting, the Map itself, the summary) is caught into Abandon, which ends
// the waiting batches and frees the account, and the execution then fails
// so ops see it: no batch is left accepting actions with no workflow.
func TestEveryTopLevelStepAbandonsOnFailure(t *testing.T) {
	top := states(load(t, "migration.asl.json"))
	for _, name := range []string{"ListAssets", "SplitBySubject", "Batches", "Summarize"} {
		catches := top[name]["Catch"].([]any)
		last := catches[len(catches)-1].(map[string]any)
		assert.Equal(t, []any{"States.ALL"}, last["ErrorEquals"], name)
		assert.Equal(t, "Abandon", last["Next"], name)
	}
	payload := top["Abandon"]["Parameters"].(map[string]any)["Payload"].(map[string]any)
	assert.Equal(t, "abandon", payload["action"])
	assert.Equal(t, "$$.Execution.Name", payload["migrationId.$"], "the migration is the execution's, whatever the failed step's input")
	assert.Equal(t, "Failed", top["Abandon"]["Next"])
	assert.Equal(t, "Choice", top["Failed"]["Type"])
	assert.Equal(t, "$.error.Error", top["FailWithCause"]["ErrorPath"], "the execution fails with the step's own error")
	assert.Equal(t, "$.error.Error", top["FailWithError"]["ErrorPath"])
}
