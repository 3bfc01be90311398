package capplan

import (
	"github.com/devplatform/account-migration/bench/costmodel"
)

// Measured is one migration as the bench measured it (bench/results.json
// holds these for every run).
type Measured struct {
	Label       string
	Batches     int
	Transitions int
	ByState     map[string]int // transitions per state name
	Invocations []costmodel.Invocation
	WRU, RRU    float64
	Events      int
}

// startStates run before the first wait: the migration's own first steps.
var startStates = map[string]bool{"ListAssets": true, "AlreadyActiveOrEligible": true, "SplitBySubject": true, "Batches": true}

// startFunctions are the Lambdas of those steps.
var startFunctions = map[string]bool{"ListAssetsFunction": true, "SplitBySubjectFunction": true}

// MixFrom splits a measured migration into its start and its end. What the
// history names goes where it ran (states, functions); for DynamoDB the
// start is the design's start writes (CreateMigration: the account's claim,
// the batches, the migration and its audit event in one transaction, with
// the execution's ARN: 2×(3+batches) WRU),
// reads are split evenly (they bind nothing), and the end has the rest.
func MixFrom(m Measured, p costmodel.Prices) Mix {
	b := float64(m.Batches)
	var mix Mix
	mix.Label = m.Label
	startT := 0
	for st, n := range m.ByState {
		if startStates[st] {
			startT += n
		}
	}
	mix.Start.Transitions = float64(startT) + b // and each batch's first state
	mix.End.Transitions = float64(m.Transitions) - mix.Start.Transitions
	for _, in := range m.Invocations {
		if startFunctions[in.Function] {
			mix.Start.LambdaSeconds += in.Duration.Seconds()
		} else {
			mix.End.LambdaSeconds += in.Duration.Seconds()
		}
	}
	mix.Start.WRU = min(m.WRU, 2*(3+b))
	mix.End.WRU = m.WRU - mix.Start.WRU
	mix.Start.RRU, mix.End.RRU = m.RRU/2, m.RRU/2
	// Each batch enters AWAITING_AGREEMENT at the start; at the end it leaves
	// it and passes through the later states: the busiest state partition
	// sees each batch come in and go out.
	mix.Start.StatePartitionWCU = b
	mix.End.StatePartitionWCU = 2 * b
	mix.End.QuotaTransactions = b
	mix.End.Events = float64(m.Events)
	mix.Bill = costmodel.Price(costmodel.Usage{Transitions: m.Transitions, Invocations: m.Invocations, WriteUnits: m.WRU, ReadUnits: m.RRU, Events: m.Events}, p)
	return mix
}
