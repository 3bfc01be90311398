package metrics

import (
	"context"
	"time"

	"github.com/devplatform/account-migration/shared/migration"
)

// The service's metrics (docs/OBSERVABILITY.md: what each means, its
// dimensions and the alarms on them). template.yaml's alarms name these.
const (
	BatchesCommitted  = "BatchesCommitted"
	AssetsMoved       = "AssetsMoved"
	BatchesFailed     = "BatchesFailed"
	BatchesStalled    = "BatchesStalled"
	WaitingAgeSeconds = "WaitingAgeSeconds"
	RequestsFailed    = "RequestsFailed"
)

// Recording a metric never fails the caller: a lost metric line is better
// than a failed step, and stdout has nowhere else to report to.

// BatchCommitted records a batch whose move finished: one commit and the
// assets it holds, by target platform.
func BatchCommitted(ctx context.Context, migrationID, batchID, targetPlatform string, moved int) {
	_ = Default().Put(ctx, Set{
		Dimensions: map[string]string{"TargetPlatform": targetPlatform},
		Rollup:     true,
		Properties: map[string]any{"migrationId": migrationID, "batchId": batchID},
		Metrics: []Metric{
			{Name: BatchesCommitted, Unit: Count, Value: 1},
			{Name: AssetsMoved, Unit: Count, Value: float64(moved)},
		},
	})
}

// BatchFailed records a batch that ended without moving anything (FAILED or
// EXPIRED), by code: EXPIRED, a domain code such as TARGET_NOT_ELIGIBLE, or
// the workflow error the state machine caught (StepFailed, States.TaskFailed).
func BatchFailed(ctx context.Context, migrationID, batchID, code string) {
	_ = Default().Put(ctx, Set{
		Dimensions: map[string]string{"Code": code},
		Rollup:     true,
		Properties: map[string]any{"migrationId": migrationID, "batchId": batchID},
		Metrics:    []Metric{{Name: BatchesFailed, Unit: Count, Value: 1}},
	})
}

// BatchStalled records a batch whose move failed for good after the
// workflow's retries: it stays COMMITTING until ops resume it (alarm
// BatchesStalled), by the error the state machine caught.
func BatchStalled(ctx context.Context, migrationID, batchID, caught string) {
	_ = Default().Put(ctx, Set{
		Dimensions: map[string]string{"Code": caught},
		Rollup:     true,
		Properties: map[string]any{"migrationId": migrationID, "batchId": batchID},
		Metrics:    []Metric{{Name: BatchesStalled, Unit: Count, Value: 1}},
	})
}

// WaitParked records how long a batch had been in its current state when the
// workflow parked its wait for step (agreement, target, confirmation).
func WaitParked(ctx context.Context, migrationID, batchID, step string, age time.Duration) {
	if age < 0 {
		age = 0 // clock skew between writers; a wait is never younger than zero
	}
	_ = Default().Put(ctx, Set{
		Dimensions: map[string]string{"Step": step},
		Rollup:     true,
		Properties: map[string]any{"migrationId": migrationID, "batchId": batchID},
		Metrics:    []Metric{{Name: WaitingAgeSeconds, Unit: Seconds, Value: age.Seconds()}},
	})
}

// RequestFailed records an HTTP request answered with an error, by code.
// apiRequestID is API Gateway's id, the one the caller sees in the error body.
func RequestFailed(ctx context.Context, apiRequestID, route, code string, status int) {
	_ = Default().Put(ctx, Set{
		Dimensions: map[string]string{"Code": code},
		Rollup:     true,
		Properties: map[string]any{"apiRequestId": apiRequestID, "route": route, "status": status},
		Metrics:    []Metric{{Name: RequestsFailed, Unit: Count, Value: 1}},
	})
}

// OldestWaitingAgeSeconds is the age of the oldest batch waiting on a
// developer, published by the scheduled waiting probe (0 when none waits).
const OldestWaitingAgeSeconds = "OldestWaitingAgeSeconds"

// OldestWaiting records what the waiting probe found: the oldest waiting
// batch's age, without dimensions (the alarm's metric); its ids and state
// go into the line as properties.
func OldestWaiting(ctx context.Context, migrationID, batchID, state string, age time.Duration) {
	_ = Default().Put(ctx, Set{
		Properties: map[string]any{"migrationId": migrationID, "batchId": batchID, "state": state},
		Metrics:    []Metric{{Name: OldestWaitingAgeSeconds, Unit: Seconds, Value: age.Seconds()}},
	})
}

// Outcomes records the domain's batch outcomes (migration.Outcomes) as the
// metrics above: BatchesCommitted and AssetsMoved by target platform,
// BatchesFailed and BatchesStalled by code.
type Outcomes struct{}

// BatchCommitted records BatchesCommitted and AssetsMoved.
func (Outcomes) BatchCommitted(ctx context.Context, b migration.Batch, moved int) {
	BatchCommitted(ctx, b.MigrationID, b.BatchID, string(b.TargetPlatform), moved)
}

// BatchFailed records BatchesFailed under label.
func (Outcomes) BatchFailed(ctx context.Context, b migration.Batch, label string) {
	BatchFailed(ctx, b.MigrationID, b.BatchID, label)
}

// BatchStalled records BatchesStalled under label.
func (Outcomes) BatchStalled(ctx context.Context, b migration.Batch, label string) {
	BatchStalled(ctx, b.MigrationID, b.BatchID, label)
}

var _ migration.Outcomes = Outcomes{}
