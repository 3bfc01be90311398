// Command capacity plans a population's migration against AWS's default
// quotas (CAPACITY.md): the time for 10^4, 10^5 and 10^6 accounts at a daily
// start rate, the quota that binds first, what to raise and by how much, and
// the bill. It replays a migration measured by `make bench`.
//
//	go run ./bench/capacity                           # the measured mix checked in (measured.json)
//	go run ./bench/capacity -starts-per-day 250000 -mode ops
//	go run ./bench/capacity -results .build/bench/results.json   # the mix of a fresh bench run
package main

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/devplatform/account-migration/bench/capplan"
	"github.com/devplatform/account-migration/bench/costmodel"
)

// measured.json is the 100-asset one-batch migration of the bench run that
// BENCHMARKS.md shows (go run ./bench/capacity -results
// .build/bench/results.json -save bench/capacity/measured.json).
//
//go:embed measured.json
var measuredJSON []byte

func main() {
	accounts := flag.String("accounts", "10000,100000,1000000", "population sizes")
	perDay := flag.Float64("starts-per-day", 100_000, "migrations ops start a day")
	mode := flag.String("mode", "developer", "developer (each waits on its developer: 60% answer in a day, 25% in a week, 15% expire at 30 days) or ops (every answer given)")
	big := flag.Float64("big-company", 0.05, "share of accounts under one company subject (its quota counter is one item)")
	results := flag.String("results", "", "take the mix from a bench results.json instead (its 100-asset one-batch run)")
	save := flag.String("save", "", "write the mix read from -results to this file (bench/capacity/measured.json after a make bench)")
	tick := flag.Duration("tick", 10*time.Second, "simulation step")
	flag.Parse()

	m, err := loadMeasured(*results)
	if err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		os.Exit(2)
	}
	if *save != "" {
		b, err := json.MarshalIndent(m, "", " ")
		if err == nil {
			err = os.WriteFile(*save, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "capacity:", err)
			os.Exit(1)
		}
	}
	mix := capplan.MixFrom(m, costmodel.USEast1Arm64)
	fmt.Printf("mix: %s; per migration: start %+v\n     end %+v; $%.6f\n\n", mix.Label, mix.Start, mix.End, mix.Bill.Total())
	for _, f := range strings.Split(*accounts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "capacity: not a population size: %q\n", f)
			os.Exit(2)
		}
		p := capplan.Population{Accounts: n, StartsPerDay: *perDay, Expire: 30 * 24 * time.Hour, BigCompanyShare: *big, Mix: mix}
		if *mode == "developer" {
			p.Responses = capplan.DeveloperResponses
		}
		pl := capplan.Simulate(p, capplan.AWSDefaults, *tick)
		fmt.Print(pl)
		maxRate, binding := capplan.MaxRate(p, capplan.AWSDefaults, *tick)
		fmt.Printf("  fastest start rate within every default quota: %.3g a day; there the first to bind is: %s\n", maxRate, binding)
		fmt.Println(raises(pl))
	}
}

// raises says which quotas the plan ran into, and to what to raise them (the
// peak it asked for, with a quarter of headroom).
func raises(pl capplan.Plan) string {
	var out []string
	for _, u := range pl.Uses {
		if u.Utilization > 1 && u.Resource == capplan.ResQuotaTx {
			out = append(out, fmt.Sprintf("  %s: no quota to raise; shard the counter or start that company's accounts at most %.0f a day", u.Resource, pl.Population.StartsPerDay/u.Utilization*pl.Population.BigCompanyShare))
			continue
		}
		if u.Utilization > 1 {
			out = append(out, fmt.Sprintf("  raise %s to %.0f (%.1f× the default)", u.Resource, math.Ceil(1.25*u.PeakDemand), 1.25*u.Utilization))
		}
	}
	if len(out) == 0 {
		return "  nothing to raise at this start rate\n"
	}
	return strings.Join(out, "\n") + "\n"
}

// loadMeasured reads the embedded mix, or the 100-asset one-batch run (else
// the smallest) of a bench results.json.
func loadMeasured(path string) (capplan.Measured, error) {
	var m capplan.Measured
	if path == "" {
		return m, json.Unmarshal(measuredJSON, &m)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	var saved struct {
		Results struct {
			Commits, Costs []struct {
				W       struct{ Assets int }
				Batches int
				History struct {
					Transitions int
					ByState     map[string]int
					PutEvents   int
				}
				Writes struct {
					Units     int
					ReadUnits float64
				}
				Lambdas []costmodel.Invocation
			}
		}
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	found := false
	for _, c := range append(saved.Results.Commits, saved.Results.Costs...) {
		if len(c.Lambdas) == 0 || c.Batches == 0 {
			continue
		}
		if !found || (c.W.Assets == 100 && c.Batches == 1) {
			m = capplan.Measured{Label: fmt.Sprintf("%d assets in %d batch(es), %s", c.W.Assets, c.Batches, path), Batches: c.Batches,
				Transitions: c.History.Transitions, ByState: c.History.ByState, Invocations: c.Lambdas,
				WRU: float64(c.Writes.Units), RRU: c.Writes.ReadUnits, Events: c.History.PutEvents}
			found = true
		}
	}
	if !found {
		return m, fmt.Errorf("%s holds no priced run (run go run ./bench -only cost first)", path)
	}
	return m, nil
}
