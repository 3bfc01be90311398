package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func byName(figs []figure) map[string]figure {
	out := map[string]figure{}
	for _, f := range figs {
		out[f.Name] = f
	}
	return out
}

// Each target is judged on the figure it is set for: the throughput ratio
// only at the sizes the issue names, per batch over every batch of the run.
func TestFiguresJudgeTargets(t *testing.T) {
	w2000 := workload{Assets: 2000, Subjects: 1}
	slow := commitRun{W: w2000, Commit: 5 * time.Second, BaselineBefore: 3 * time.Second, BaselineAfter: 5 * time.Second, Moved: 2000, Batches: 1,
		CommitCPU: stackCPU{Moto: 4 * time.Second}, BaselineCPUBefore: stackCPU{Moto: 3 * time.Second}, BaselineCPUAfter: stackCPU{Moto: 3 * time.Second},
		History: historyStats{Transitions: 14, Invocations: 7, ByState: map[string]int{"ListAssets": 1, "AlreadyActiveOrEligible": 1, "SplitBySubject": 1, "Batches": 1, "Summarize": 1}},
		Writes:  writeStats{Requests: map[string]int{"TransactWriteItems": 22}, ItemWrites: 2000, ItemsWritten: 2000, MaxPerItem: 1, BookkeepingRequests: 12}}
	many := commitRun{W: workload{Assets: 1000, Subjects: 200}, Batches: 200,
		History: historyStats{Transitions: 1805, MaxStatePayload: 31483, MaxStateWhere: "Summarize"},
		Writes:  writeStats{Requests: map[string]int{"UpdateItem": 1}, ItemWrites: 1001, ItemsWritten: 1000, MaxPerItem: 2, BookkeepingRequests: 1000}}
	figs := byName((&results{Commits: []commitRun{slow}, Payloads: []commitRun{many}}).figures())

	wall := figs["commit_ratio_wall_2000"]
	assert.InDelta(t, 0.8, wall.Value, 1e-9, "best case is the mean of before and after")
	assert.True(t, *wall.Met)
	assert.False(t, *figs["commit_ratio_cpu_2000"].Met, "3 s of CPU against 4 s: 0.75")
	assert.False(t, *figs["transitions_per_batch_2000x1"].Met)
	assert.False(t, *figs["bookkeeping_writes_per_batch_2000x1"].Met)
	assert.True(t, *figs["item_writes_per_item_2000x1"].Met)
	assert.True(t, *figs["transitions_per_batch_1000x200"].Met, "9.03 per batch")
	assert.True(t, *figs["bookkeeping_writes_per_batch_1000x200"].Met, "5 per batch")
	assert.False(t, *figs["item_writes_per_item_1000x200"].Met, "an item written twice")
	assert.False(t, *figs["max_state_payload_1000x200"].Met)
	_, timed := figs["commit_ratio_wall_1000"]
	assert.False(t, timed)
}
