package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/devplatform/account-migration/bench/costmodel"
)

// results is everything one run measured.
type results struct {
	Commits  []commitRun
	Payloads []commitRun
	Costs    []commitRun // accounts run for their price alone (-cost-accounts)
	Bulk     *bulkCheck  // the capacity section's local check
	Cold     []coldStart
	API      *apiResult
	Profile  *moveProfile
	Imports  []importRun
}

const (
	secThroughput = "1. Commit throughput against the store's best case (same moto endpoint, same table, one mover)"
	secCost       = "2. Cost per batch (execution histories; DynamoDB requests from moto's request recorder)"
	secPayload    = "3. Largest state input or output (execution histories)"
	secCold       = "4. Cold start (INIT REPORT under the Runtime Interface Emulator) and binary size (arm64)"
	secAPI        = "5. API latency against the raw Query each route needs (same endpoint, same concurrency)"
	secGrowth     = "6. Growth of the commit (docs/growth.png)"
)

// throughputSizes are the batch sizes the throughput target is set for.
var throughputSizes = map[int]bool{2000: true, 10000: true}

// figures are the run's figures in the report's order: one helper a section.
func (r *results) figures() []figure {
	costRuns := append(append(append([]commitRun(nil), r.Commits...), r.Payloads...), r.Costs...)
	var figs []figure
	figs = append(figs, throughputFigures(r.Commits)...)
	figs = append(figs, costFigures(costRuns)...)
	figs = append(figs, payloadFigures(r.Payloads, r.Commits)...)
	figs = append(figs, coldFigures(r.Cold)...)
	figs = append(figs, apiFigures(r.API)...)
	figs = append(figs, growthFigures(r.Commits)...)
	figs = append(figs, dollarFigures(costRuns, costmodel.USEast1Arm64)...)
	figs = append(figs, r.capacityFigures()...)
	figs = append(figs, importFigures(r.Imports)...)
	return figs
}

// throughputFigures set the commit of the throughput sizes against the
// store's best case on the same table.
func throughputFigures(commits []commitRun) []figure {
	var figs []figure
	for _, c := range commits {
		if !throughputSizes[c.W.Assets] || c.Baseline() == 0 {
			continue
		}
		wall, cpu := c.ratio()
		figs = append(figs,
			figure{Section: secThroughput, Name: fmt.Sprintf("commit_ratio_wall_%d", c.W.Assets), Label: fmt.Sprintf("%s assets: throughput / best case, wall clock", thousands(c.W.Assets)),
				Value: wall, Unit: "ratio", Target: "≥ 0.8", Met: met(wall >= 0.8),
				Note: fmt.Sprintf("%.0f vs %.0f assets/s", c.rate(), c.baseRate())},
			figure{Section: secThroughput, Name: fmt.Sprintf("commit_ratio_cpu_%d", c.W.Assets), Label: fmt.Sprintf("%s assets: the same by the stack's CPU time", thousands(c.W.Assets)),
				Value: cpu, Unit: "ratio", Target: "≥ 0.8", Met: met(cpu >= 0.8),
				Note: fmt.Sprintf("%s vs %s CPU", c.CommitCPU.total().Round(10*time.Millisecond), c.BaselineCPU().Round(10*time.Millisecond))},
			figure{Section: secThroughput, Name: fmt.Sprintf("commit_rate_%d", c.W.Assets), Label: fmt.Sprintf("%s assets: commit throughput", thousands(c.W.Assets)),
				Value: c.rate(), Unit: "assets/s", Note: fmt.Sprintf("COMMIT_STARTED to BATCH_COMMITTED: %s", c.Commit.Round(time.Millisecond))},
			figure{Section: secThroughput, Name: fmt.Sprintf("baseline_rate_%d", c.W.Assets), Label: fmt.Sprintf("%s assets: the store's best case", thousands(c.W.Assets)),
				Value: c.baseRate(), Unit: "assets/s", Note: fmt.Sprintf("%s before, %s after the migration", c.BaselineBefore.Round(time.Millisecond), c.BaselineAfter.Round(time.Millisecond))},
		)
	}
	return figs
}

// costFigures are what a batch costs in transitions, invocations and writes,
// for every run that committed a batch (writes only where they were recorded).
func costFigures(runs []commitRun) []figure {
	var figs []figure
	for _, c := range runs {
		if c.Batches == 0 {
			continue
		}
		tag := fmt.Sprintf("%dx%d", c.W.Assets, c.Batches)
		what := fmt.Sprintf("%s assets in %s", thousands(c.W.Assets), plural(c.Batches, "batch", "batches"))
		per := func(n int) float64 { return float64(n) / float64(c.Batches) }
		figs = append(figs,
			figure{Section: secCost, Name: "transitions_per_batch_" + tag, Label: what + ": state transitions per batch",
				Value: per(c.History.Transitions), Unit: "transitions", Target: "≤ 10", Met: met(per(c.History.Transitions) <= 10),
				Note: fmt.Sprintf("%d in all; %d per batch in the Map, %d for the migration itself", c.History.Transitions, mapStates(c.History)/c.Batches, c.History.Transitions-mapStates(c.History))},
			figure{Section: secCost, Name: "lambda_invocations_per_batch_" + tag, Label: what + ": Lambda invocations per batch",
				Value: per(c.History.Invocations), Unit: "invocations", Note: fmt.Sprintf("%d in all", c.History.Invocations)})
		if c.Writes.Requests == nil {
			continue
		}
		figs = append(figs,
			figure{Section: secCost, Name: "item_writes_per_item_" + tag, Label: what + ": writes of any one listed item (most)",
				Value: float64(c.Writes.MaxPerItem), Unit: "writes", Target: "≤ 1", Met: met(c.Writes.MaxPerItem <= 1 && c.Writes.ItemsWritten == c.W.Assets),
				Note: fmt.Sprintf("%d item writes, %d distinct items, %d listed", c.Writes.ItemWrites, c.Writes.ItemsWritten, c.W.Assets)},
			figure{Section: secCost, Name: "bookkeeping_writes_per_batch_" + tag, Label: what + ": bookkeeping write requests per batch",
				Value: per(c.Writes.BookkeepingRequests), Unit: "requests", Target: "≤ 6", Met: met(per(c.Writes.BookkeepingRequests) <= 6),
				Note: fmt.Sprintf("%d in all; plus %d progress-counter actions inside the item transactions", c.Writes.BookkeepingRequests, c.Writes.CounterActions)},
			figure{Section: secCost, Name: "write_units_per_asset_" + tag, Label: what + ": write units per asset",
				Value: float64(c.Writes.Units) / float64(c.W.Assets), Unit: "WCU", Note: fmt.Sprintf("%d units, %d write requests (%s)", c.Writes.Units, c.Writes.requests(), requestMix(c.Writes.Requests))},
		)
	}
	return figs
}

// payloadFigures are the largest state payload of each account, across many
// subjects and in one, and how it grew from the smallest account to the largest.
func payloadFigures(payloads, commits []commitRun) []figure {
	var figs []figure
	for _, c := range payloads {
		tag := fmt.Sprintf("%dx%d", c.W.Assets, c.W.Subjects)
		figs = append(figs, figure{Section: secPayload, Name: "max_state_payload_" + tag,
			Label: fmt.Sprintf("%s assets across %d subjects", thousands(c.W.Assets), c.W.Subjects), Value: float64(c.History.MaxStatePayload), Unit: "bytes",
			Target: "≤ 16384 (AWS: 262144)", Met: met(c.History.MaxStatePayload <= 16384),
			Note: fmt.Sprintf("%s; largest of any field: %d, %s", c.History.MaxStateWhere, c.History.MaxAnyPayload, c.History.MaxAnyWhere)})
	}
	if smallest, largest := extremes(payloads); smallest != nil && largest != smallest {
		figs = append(figs, payloadGrowth("max_state_payload_growth", fmt.Sprintf("across %d subjects", largest.W.Subjects), smallest, largest))
	}
	for _, c := range commits {
		figs = append(figs, figure{Section: secPayload, Name: fmt.Sprintf("max_state_payload_%dx1", c.W.Assets),
			Label: fmt.Sprintf("%s assets, one subject", thousands(c.W.Assets)), Value: float64(c.History.MaxStatePayload), Unit: "bytes",
			Target: "≤ 16384", Met: met(c.History.MaxStatePayload <= 16384), Note: c.History.MaxStateWhere})
	}
	if smallest, largest := extremes(commits); smallest != nil && largest != smallest {
		figs = append(figs, payloadGrowth("max_state_payload_growth_1_subject", "one subject", smallest, largest))
	}
	return figs
}

// extremes are the runs of the fewest and the most assets (the first of
// equals); nil for no runs.
func extremes(runs []commitRun) (smallest, largest *commitRun) {
	for i := range runs {
		c := &runs[i]
		if smallest == nil || c.W.Assets < smallest.W.Assets {
			smallest = c
		}
		if largest == nil || c.W.Assets > largest.W.Assets {
			largest = c
		}
	}
	return smallest, largest
}

// coldFigures set each function's cold start and binary against the
// hello-world bootstrap; none without it.
func coldFigures(cold []coldStart) []figure {
	var hello *coldStart
	for i := range cold {
		if cold[i].ID == helloID {
			hello = &cold[i]
		}
	}
	if hello == nil {
		return nil
	}
	figs := []figure{{Section: secCold, Name: "init_ms_hello_world", Label: "hello-world bootstrap: init", Value: ms(hello.median()), Unit: "ms",
		Note: fmt.Sprintf("median of %d; binary %.1f MB", len(hello.Inits), mb(hello.Size))}}
	for _, c := range cold {
		if c.ID == helloID {
			continue
		}
		ratio := c.median().Seconds() / hello.median().Seconds()
		name := snake(strings.ReplaceAll(c.ID, "@before", "Before"))
		note := fmt.Sprintf("%.2f ms vs %.2f ms, medians of %d", ms(c.median()), ms(hello.median()), len(c.Inits))
		if ratio > 1.5 {
			note += "; not met here: see \"Cold start\" below for why"
		}
		figs = append(figs,
			figure{Section: secCold, Name: "init_ratio_" + name, Label: c.ID + ": init / hello world", Value: ratio, Unit: "ratio",
				Target: "≤ 1.5", Met: met(ratio <= 1.5), Note: note},
			figure{Section: secCold, Name: "binary_mb_" + name, Label: c.ID + ": arm64 bootstrap", Value: mb(c.Size), Unit: "MB",
				Target: "≤ 10", Met: met(mb(c.Size) <= 10), Note: fmt.Sprintf("hello world: %.1f MB", mb(hello.Size))})
	}
	return figs
}

// apiFigures set each route's latency and CPU against its raw Query.
func apiFigures(a *apiResult) []figure {
	if a == nil {
		return nil
	}
	var figs []figure
	for _, route := range []string{"assets", "migration"} {
		api, raw := a.Routes[route], a.Routes[route+"Raw"]
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50", 0.5}, {"p99", 0.99}} {
			ratio := api.quantile(q.q).Seconds() / raw.quantile(q.q).Seconds()
			figs = append(figs, figure{Section: secAPI, Name: fmt.Sprintf("api_%s_%s_ratio", route, q.name),
				Label: fmt.Sprintf("%s, %s: API / raw Query", routeLabel(route), q.name), Value: ratio, Unit: "ratio", Target: "≤ 2", Met: met(ratio <= 2),
				Note: apiNote(ratio, fmt.Sprintf("%.0f ms vs %.0f ms; %d apps, %d clients, %d requests", ms(api.quantile(q.q)), ms(raw.quantile(q.q)), a.Apps, a.Clients, len(api.Samples)))})
		}
		cpu := api.cpuPerRequest().Seconds() / raw.cpuPerRequest().Seconds()
		figs = append(figs, figure{Section: secAPI, Name: fmt.Sprintf("api_%s_cpu_ratio", route),
			Label: fmt.Sprintf("%s: the stack's CPU per request, API / raw Query", routeLabel(route)), Value: cpu, Unit: "ratio",
			Note: fmt.Sprintf("%.1f ms vs %.1f ms", ms(api.cpuPerRequest()), ms(raw.cpuPerRequest()))})
	}
	return figs
}

// growthFigures are each commit's time and its time over the best case.
func growthFigures(commits []commitRun) []figure {
	var figs []figure
	for _, c := range commits {
		if c.Baseline() == 0 {
			continue
		}
		over := c.Commit - c.Baseline()
		figs = append(figs,
			figure{Section: secGrowth, Name: fmt.Sprintf("commit_seconds_%d", c.W.Assets), Label: fmt.Sprintf("%s assets: commit", thousands(c.W.Assets)),
				Value: c.Commit.Seconds(), Unit: "s", Note: fmt.Sprintf("%.2f ms per asset; best case %.2f s", ms(c.Commit)/float64(c.W.Assets), c.Baseline().Seconds())},
			figure{Section: secGrowth, Name: fmt.Sprintf("commit_overhead_seconds_%d", c.W.Assets), Label: fmt.Sprintf("%s assets: commit − best case", thousands(c.W.Assets)),
				Value: over.Seconds(), Unit: "s", Note: fmt.Sprintf("%.0f%% of the commit; by CPU %.2f s", 100*over.Seconds()/c.Commit.Seconds(), (c.CommitCPU.total() - c.BaselineCPU()).Seconds())},
		)
	}
	return figs
}

// payloadGrowth is how much the largest payload grew from the smallest
// account to the largest.
func payloadGrowth(name, what string, smallest, largest *commitRun) figure {
	g := float64(largest.History.MaxStatePayload) / float64(smallest.History.MaxStatePayload)
	return figure{Section: secPayload, Name: name,
		Label: fmt.Sprintf("growth from %s to %s assets, %s", thousands(smallest.W.Assets), thousands(largest.W.Assets), what),
		Value: g, Unit: "ratio", Target: "flat (≤ 1.10)", Met: met(g <= 1.10)}
}

// mapStates counts the transitions inside the Map: the per-batch states.
func mapStates(h historyStats) int {
	n := h.Transitions
	for _, s := range []string{"ListAssets", "AlreadyActiveOrEligible", "SplitBySubject", "Batches", "Summarize", "AlreadyActive", "NoMigrationNeeded"} {
		n -= h.ByState[s]
	}
	return n
}

func requestMix(m map[string]int) string {
	var parts []string
	for _, op := range []string{"TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem"} {
		if m[op] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[op], op))
		}
	}
	return strings.Join(parts, ", ")
}

// growthChart is docs/growth.png: commit and best-case time by batch size.
func (r *results) growthChart(date time.Time) (chart, bool) {
	var commit, base, over []([2]float64)
	for _, c := range r.Commits {
		if c.Baseline() == 0 {
			continue
		}
		n := float64(c.W.Assets)
		commit = append(commit, [2]float64{n, c.Commit.Seconds()})
		base = append(base, [2]float64{n, c.Baseline().Seconds()})
		over = append(over, [2]float64{n, max(0, (c.Commit - c.Baseline()).Seconds())})
	}
	if len(commit) < 2 {
		return chart{}, false
	}
	return chart{
		Title:  "Commit time by batch size, local stack (moto)",
		Notes:  []string{"one batch of web and mobile apps, data and orders; make bench, " + date.Format("2006-01-02")},
		XLabel: "assets in the batch", YLabel: "seconds",
		Series: []series{
			{Name: "workflow commit (COMMIT_STARTED to BATCH_COMMITTED)", Color: color.RGBA{0xc8, 0x32, 0x2d, 0xff}, Points: commit},
			{Name: "store best case (TransactWriteItems of 100)", Color: color.RGBA{0x2f, 0x5f, 0xc8, 0xff}, Points: base, Dashed: true},
			{Name: "overhead (commit - best case)", Color: color.RGBA{0x3a, 0x9a, 0x4a, 0xff}, Points: over},
		},
	}, true
}

func writeChart(path string, c chart) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := c.png(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mb(b int64) float64 { return float64(b) / 1e6 }

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// snake turns ApiFunction into api_function.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// apiNote says where a missed latency ratio is explained.
func apiNote(ratio float64, note string) string {
	if ratio > 2 {
		note += "; not met here: see \"API latency\" below"
	}
	return note
}
