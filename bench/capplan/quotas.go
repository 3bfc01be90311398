// Package capplan plans a population's migration against AWS's default
// quotas: it replays a measured per-migration mix of requests, as many
// migrations as start each day, through token buckets and per-second limits,
// and reports how long the population takes, which quota binds and by how
// much, and the bill. It is deterministic (a fluid model in fixed ticks):
// the same inputs give the same plan.
package capplan

// Quota is one limit the plan checks.
type Quota struct {
	Name    string
	Default float64 // AWS's documented default (or the stated assumption)
	Unit    string
	Source  string
}

// Quotas are the limits of one account and region.
type Quotas struct {
	StartExecutionRefill, StartExecutionBucket float64 // Step Functions StartExecution, per second / burst
	TransitionRefill, TransitionBucket         float64 // Step Functions state transitions, per second / burst
	OpenExecutions                             float64 // Step Functions open executions per account and region
	LambdaConcurrency                          float64 // Lambda concurrent executions per account and region
	TableWRU, TableRRU                         float64 // DynamoDB on-demand per-table throughput, per second
	PartitionWCU, PartitionRCU                 float64 // DynamoDB per partition, per second
	// HotItemTransactions is how many transactions per second can touch one
	// item: concurrent transactions on an item conflict
	// (TransactionConflictException) and the SDK retries them, so they run
	// one after another. 1 / 25 ms: an assumption, not a documented quota.
	HotItemTransactions float64
	EventsPerSecond     float64 // EventBridge PutEvents entries per second
}

// AWSDefaults are the documented defaults in us-east-1 (read 2026-12-01):
//   - Step Functions (Standard): StartExecution bucket 1,300, refill 300/s;
//     StateTransition bucket 5,000, refill 5,000/s; 1,000,000 open executions
//     per account and region (docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
//   - Lambda: 1,000 concurrent executions per region; each function scales by
//     1,000 environments every 10 s (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
//     .../scaling-behavior.html).
//   - DynamoDB on-demand: 40,000 RRU and 40,000 WRU per table; 3,000 RCU and
//     1,000 WCU per partition (docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
//   - EventBridge PutEvents: 10,000 entries per second in us-east-1
//     (docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html).
var AWSDefaults = Quotas{
	StartExecutionRefill: 300, StartExecutionBucket: 1300,
	TransitionRefill: 5000, TransitionBucket: 5000,
	OpenExecutions:    1_000_000,
	LambdaConcurrency: 1000,
	TableWRU:          40000, TableRRU: 40000,
	PartitionWCU: 1000, PartitionRCU: 3000,
	HotItemTransactions: 40,
	EventsPerSecond:     10000,
}

// Resource names, as the plan reports them.
const (
	ResStartExecution = "Step Functions StartExecution (refill 300/s, bucket 1,300)"
	ResTransitions    = "Step Functions state transitions (refill 5,000/s, bucket 5,000)"
	ResOpen           = "Step Functions open executions (1,000,000)"
	ResLambda         = "Lambda concurrent executions (1,000)"
	ResTableWRU       = "DynamoDB table write throughput (40,000 WRU/s)"
	ResTableRRU       = "DynamoDB table read throughput (40,000 RRU/s)"
	ResStatePartition = "DynamoDB partition of one batch state in the GSI (1,000 WCU/s)"
	ResQuotaItem      = "DynamoDB partition of the large company's quota counter (1,000 WCU/s)"
	ResQuotaTx        = "transactions on the large company's quota counter item (~40/s, assumed)"
	ResEvents         = "EventBridge PutEvents (10,000 entries/s)"
)

// limits is each resource's per-second limit under q.
func (q Quotas) limits() map[string]float64 {
	return map[string]float64{
		ResStartExecution: q.StartExecutionRefill, ResTransitions: q.TransitionRefill, ResOpen: q.OpenExecutions,
		ResLambda: q.LambdaConcurrency, ResTableWRU: q.TableWRU, ResTableRRU: q.TableRRU,
		ResStatePartition: q.PartitionWCU, ResQuotaItem: q.PartitionWCU, ResQuotaTx: q.HotItemTransactions,
		ResEvents: q.EventsPerSecond,
	}
}
