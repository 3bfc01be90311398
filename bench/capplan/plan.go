package capplan

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/devplatform/account-migration/bench/costmodel"
)

// Phase is the work one migration does at one time, in units of each
// resource (transitions, Lambda seconds, request units, ...).
type Phase struct {
	Transitions   float64
	LambdaSeconds float64 // sum of invocation durations: concurrency × time
	WRU, RRU      float64
	// StatePartitionWCU are the writes into the busiest one of the batch-state
	// GSI partitions (gsi2pk BATCHSTATE#<state>): every batch that enters or
	// leaves a state writes there, whoever it belongs to.
	StatePartitionWCU float64
	// QuotaTransactions touch the subject's quota counter item (the point of
	// no return reserves mini-programs there); they fall on one item when the
	// migrations belong to one large company.
	QuotaTransactions float64
	Events            float64
}

func (p Phase) add(q Phase, k float64) Phase {
	return Phase{p.Transitions + k*q.Transitions, p.LambdaSeconds + k*q.LambdaSeconds, p.WRU + k*q.WRU, p.RRU + k*q.RRU,
		p.StatePartitionWCU + k*q.StatePartitionWCU, p.QuotaTransactions + k*q.QuotaTransactions, p.Events + k*q.Events}
}

// Mix is one measured migration split into what happens when it starts
// (before the first wait) and what happens when it ends (the developer
// answered and it committed, or it expired).
type Mix struct {
	Label      string
	Start, End Phase
	Bill       costmodel.Bill // one whole migration, priced
}

// Response is the share of migrations whose developer answers after a delay.
type Response struct {
	Share float64
	After time.Duration
}

// Population is what the plan migrates.
type Population struct {
	Accounts     int
	StartsPerDay float64
	// Responses of the developers, in order; the rest wait until Expire.
	// None: ops migrations with every answer given (no waiting).
	Responses []Response
	Expire    time.Duration
	// BigCompanyShare is the share of accounts under one company subject:
	// their quota transactions all fall on one item.
	BigCompanyShare float64
	Mix             Mix
}

// DeveloperResponses is the plan's assumption for developer migrations: 60 %
// answer within a day, 25 % within a week, 15 % never (the wait expires
// after PendingTimeoutSeconds: 30 days in prod, samconfig.toml).
var DeveloperResponses = []Response{{0.60, 24 * time.Hour}, {0.25, 7 * 24 * time.Hour}}

// Use is one resource's load over the plan.
type Use struct {
	Resource    string
	Limit       float64
	PeakDemand  float64 // the most the work asked of it in one second
	Utilization float64 // PeakDemand / Limit
	Throttled   time.Duration
}

// Plan is the result of one simulation.
type Plan struct {
	Population Population
	AllStarted time.Duration // when the last migration started
	Makespan   time.Duration // when the last one ended
	Uses       []Use         // busiest first
	Bill       costmodel.Bill
}

// Simulate runs p against q in ticks of tick (10 s is plenty: the buckets
// refill in seconds, the waits last days).
func Simulate(p Population, q Quotas, tick time.Duration) Plan {
	s := newSim(p, q, tick)
	for !s.finished() {
		s.step()
	}
	return s.plan()
}

func (pl Plan) String() string {
	var b []byte
	b = fmt.Appendf(b, "%d accounts at %.0f starts a day: all started after %s, all ended after %s; bill $%.2f\n",
		pl.Population.Accounts, pl.Population.StartsPerDay, days(pl.AllStarted), days(pl.Makespan), pl.Bill.Total())
	for _, u := range pl.Uses {
		per := "/s"
		if u.Resource == ResOpen {
			per = "  " // a count, not a rate
		}
		b = fmt.Appendf(b, "  %-80s peak %10.1f%s of %8.0f %6.1f%%%s\n", u.Resource, u.PeakDemand, per, u.Limit,
			100*u.Utilization, throttled(u.Throttled))
	}
	return string(b)
}

func days(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

func throttled(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return "; throttled " + days(d)
}

// sortUses orders by utilization, busiest first (by name among equals, so
// the order is the same every run).
func sortUses(us []Use) {
	sort.SliceStable(us, func(i, j int) bool {
		if us[i].Utilization != us[j].Utilization {
			return us[i].Utilization > us[j].Utilization
		}
		return us[i].Resource < us[j].Resource
	})
}

// MaxRate finds, by bisection on the daily start rate, the fastest rate at
// which p runs with every resource within its limit, and the resource that
// reaches its limit there: the quota that binds first as ops start faster.
// (A resource's peak is not always proportional to the rate: open
// executions are bounded by the population itself.)
func MaxRate(p Population, q Quotas, tick time.Duration) (float64, string) {
	over := func(rate float64) (bool, string) {
		p.StartsPerDay = rate
		// At most ~50,000 ticks a run: a slow rate spans a year, and its
		// per-second peaks are smooth anyway.
		span := time.Duration(float64(p.Accounts)/rate*86400*float64(time.Second)) + p.Expire
		pl := Simulate(p, q, max(tick, span/50_000))
		return pl.Uses[0].Utilization > 1, pl.Uses[0].Resource
	}
	// From a year's worth of starts (slower runs take too long to simulate
	// and no plan asks for them) to far beyond any quota.
	lo, hi := math.Max(1, float64(p.Accounts)/365), 1e10
	if o, r := over(lo); o {
		return lo, r
	}
	if o, _ := over(hi); !o {
		return math.Inf(1), ""
	}
	for hi/lo > 1.03 {
		mid := math.Sqrt(lo * hi)
		if o, _ := over(mid); o {
			hi = mid
		} else {
			lo = mid
		}
	}
	_, r := over(hi)
	return lo, r
}
