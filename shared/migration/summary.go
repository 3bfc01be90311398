package migration

import "context"

// Summary is the workflow's output (docs/CONTRACT.md §3). It lists at most
// SummaryBatchLimit batches, so it stays far below Step Functions' 256 KB
// payload limit (and under 16 KB) whatever the batch count; Counts covers all.
type Summary struct {
	MigrationID      string             `json:"migrationId"`
	State            MigrationState     `json:"state"`
	Counts           map[BatchState]int `json:"counts"`
	Batches          []BatchSummary     `json:"batches"`
	BatchesTruncated bool               `json:"batchesTruncated,omitempty"`
	// ActiveMigrationID names the account's active migration when this
	// execution started nothing because of it.
	ActiveMigrationID string `json:"activeMigrationId,omitempty"`
}

// SummaryBatchLimit is how many batches the workflow's output lists, and
// summaryBatchBytes how many bytes of it they may take (the output's bound is 16 KB).
const (
	SummaryBatchLimit = 100
	summaryBatchBytes = 14 << 10
)

func (b BatchSummary) size() int {
	n := len(b.BatchKey) + len(b.State) + len(b.TargetPlatform) + len(b.TargetAccountID) + 90 // names and punctuation
	if b.Error != nil {
		n += len(b.Error.Code) + len(b.Error.Message) + 40
	}
	return n
}

// BatchSummary is one batch in the summary.
type BatchSummary struct {
	BatchKey        string         `json:"batchKey"`
	State           BatchState     `json:"state"`
	TargetPlatform  TargetPlatform `json:"targetPlatform"`
	TargetAccountID string         `json:"targetAccountId,omitempty"`
	Error           *BatchError    `json:"error,omitempty"`
}

// Summarize ends the migration: the account's claim is released so it may
// start again, and the outcome is returned.
func (s *WorkflowSteps) Summarize(ctx context.Context, migrationID string) (Summary, error) {
	m, err := s.Store.Migration(ctx, migrationID)
	if err != nil {
		return Summary{}, err
	}
	batches, err := s.Store.Batches(ctx, migrationID)
	if err != nil {
		return Summary{}, err
	}
	sum := SummaryOf(m, batches)
	if sum.State == MigrationInProgress {
		return sum, nil
	}
	if m.Summarized {
		return sum, nil // ended already; its claim went in the same write
	}
	ev := AuditEvent{At: s.stamp(), Event: EventMigrationEnded, Account: m.Source.String(), MigrationID: migrationID,
		Detail: map[string]any{"state": string(sum.State)}}
	return sum, s.Store.EndMigration(ctx, m.Source, migrationID, ev)
}

// SummaryOf is the workflow's output for a migration and its batches: every
// batch counted by state, the first ones listed within the output's bound.
func SummaryOf(m Migration, batches []Batch) Summary {
	sum := Summary{MigrationID: m.MigrationID, State: DeriveMigrationState(m.Eligible, states(batches)), Counts: map[BatchState]int{},
		Batches: make([]BatchSummary, 0, min(len(batches), SummaryBatchLimit))}
	listed := 0 // bytes of the listed batches: long error messages could outgrow the limit first
	for _, b := range batches {
		sum.Counts[b.State]++
		bs := BatchSummary{BatchKey: b.BatchKey, State: b.State, TargetPlatform: b.TargetPlatform, TargetAccountID: b.TargetAccountID, Error: b.Error}
		size := bs.size()
		if sum.BatchesTruncated || len(sum.Batches) == SummaryBatchLimit || listed+size > summaryBatchBytes {
			sum.BatchesTruncated = true
			continue
		}
		listed += size
		sum.Batches = append(sum.Batches, bs)
	}
	return sum
}
