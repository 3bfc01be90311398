package main

import (
	"fmt"

	"github.com/devplatform/account-migration/bench/costmodel"
)

const secDollars = "7. Dollars per migration (measured counts at AWS's us-east-1 arm64 prices, bench/costmodel/prices.go)"

// usage is what the run's execution consumed, as AWS would bill it: the
// history's transitions and events, the emulators' invocations with their
// durations, the recorded requests' units.
func (r commitRun) usage() costmodel.Usage {
	return costmodel.Usage{Transitions: r.History.Transitions, Invocations: r.Lambdas,
		WriteUnits: float64(r.Writes.Units), ReadUnits: r.Writes.ReadUnits, Events: r.History.PutEvents}
}

// floorUsage is the design's floor: the items' own writes and nothing else.
func (r commitRun) floorUsage() costmodel.Usage {
	return costmodel.Usage{WriteUnits: float64(r.Writes.ItemUnits)}
}

// dollarFigures prices every recorded run, split by service, beside its floor.
func dollarFigures(runs []commitRun, p costmodel.Prices) []figure {
	var figs []figure
	for _, c := range runs {
		if c.Batches == 0 || c.Writes.Requests == nil || len(c.Lambdas) == 0 {
			continue
		}
		tag := fmt.Sprintf("%dx%d", c.W.Assets, c.Batches)
		what := fmt.Sprintf("%s assets in %s", thousands(c.W.Assets), plural(c.Batches, "batch", "batches"))
		u := c.usage()
		b, floor := costmodel.Price(u, p), costmodel.Price(c.floorUsage(), p)
		figs = append(figs,
			figure{Section: secDollars, Name: "cost_usd_per_migration_" + tag, Label: what + ": dollars per migration", Value: b.Total(), Unit: "USD",
				Note: fmt.Sprintf("%.1f× the floor; per asset $%.8f", b.Total()/floor.Total(), b.Total()/float64(c.W.Assets))},
			figure{Section: secDollars, Name: "cost_usd_floor_" + tag, Label: what + ": the design's floor (the items' own writes alone)", Value: floor.Total(), Unit: "USD",
				Note: fmt.Sprintf("%d WRU for %d item writes", c.Writes.ItemUnits, c.Writes.ItemWrites)},
			figure{Section: secDollars, Name: "cost_usd_per_migration_" + tag + "_stepfunctions", Label: what + ": Step Functions", Value: b.StepFunctions, Unit: "USD",
				Note: fmt.Sprintf("%d state transitions", u.Transitions)},
			figure{Section: secDollars, Name: "cost_usd_per_migration_" + tag + "_lambda", Label: what + ": Lambda", Value: b.Lambda(), Unit: "USD",
				Note: fmt.Sprintf("%d invocations (%d in the history), %.3f GB-s measured", len(u.Invocations), c.History.Invocations, costmodel.GBSeconds(u.Invocations))},
			figure{Section: secDollars, Name: "cost_usd_per_migration_" + tag + "_dynamodb", Label: what + ": DynamoDB", Value: b.DynamoDB(), Unit: "USD",
				Note: fmt.Sprintf("%d WRU in %d write requests, %.1f RRU in %d read requests", c.Writes.Units, c.Writes.requests(), c.Writes.ReadUnits, c.Writes.ReadRequests)},
			figure{Section: secDollars, Name: "cost_usd_per_migration_" + tag + "_eventbridge", Label: what + ": EventBridge", Value: b.EventBridge, Unit: "USD",
				Note: fmt.Sprintf("%d events", u.Events)},
		)
	}
	return figs
}
