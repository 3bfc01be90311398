package capplan

import (
	"math"
	"time"
)

// sim is the fluid model: migrations are amounts, not objects; each tick the
// pending work is served in the proportion the scarcest resource allows.
type sim struct {
	p    Population
	q    Quotas
	dt   float64 // seconds per tick
	t    int     // ticks so far
	tick time.Duration

	credit, queued, started  float64
	pendingStart             float64 // started, first steps not yet run
	pendingEnd               float64 // answered or expired, last steps not yet run
	open, done               float64
	due                      []float64 // ring: end phases falling due, by tick
	startTokens, transTokens float64

	peak       map[string]float64
	throttled  map[string]int
	allStarted int
}

func newSim(p Population, q Quotas, tick time.Duration) *sim {
	dt := tick.Seconds()
	horizon := int(p.Expire/tick) + 2
	for _, r := range p.Responses {
		horizon = max(horizon, int(r.After/tick)+2)
	}
	return &sim{p: p, q: q, dt: dt, tick: tick, due: make([]float64, horizon),
		startTokens: q.StartExecutionBucket, transTokens: q.TransitionBucket,
		peak: map[string]float64{}, throttled: map[string]int{}, allStarted: -1}
}

const eps = 1e-6

func (s *sim) finished() bool { return s.done >= float64(s.p.Accounts)-eps }

func (s *sim) step() {
	n := float64(s.p.Accounts)
	// Ops ask for starts at the daily rate.
	want := math.Min(s.p.StartsPerDay*s.dt/86400, n-s.credit)
	s.credit += want
	s.queued += want
	s.demand(ResStartExecution, want/s.dt)
	// A bucket holds at most its size between ticks; within a tick it also
	// refills, so a tick longer than size/refill loses nothing.
	s.startTokens = math.Min(s.q.StartExecutionBucket, s.startTokens) + s.q.StartExecutionRefill*s.dt
	s.demand(ResOpen, s.open+s.queued)
	starts := math.Min(s.queued, math.Min(s.startTokens, math.Max(0, s.q.OpenExecutions-s.open)))
	if starts < s.queued-eps {
		if s.startTokens < s.q.OpenExecutions-s.open {
			s.throttled[ResStartExecution]++
		} else {
			s.throttled[ResOpen]++
		}
	}
	s.startTokens -= starts
	s.queued -= starts
	s.started += starts
	s.open += starts
	s.pendingStart += starts
	if s.allStarted < 0 && s.started >= n-eps {
		s.allStarted = s.t
	}
	slot := s.t % len(s.due)
	offeredEnd := s.due[slot]
	if len(s.p.Responses) == 0 {
		offeredEnd = want // ops migrations end right after they start
	}
	s.pendingEnd += s.due[slot]
	s.due[slot] = 0
	s.offer(want, offeredEnd)
	s.serve()
	s.t++
}

// needs is what work asks of each resource per second of a tick.
func (s *sim) needs(work Phase) map[string]float64 {
	quotaTx := work.QuotaTransactions * s.p.BigCompanyShare
	return map[string]float64{
		ResTransitions: work.Transitions / s.dt, ResLambda: work.LambdaSeconds / s.dt,
		ResTableWRU: work.WRU / s.dt, ResTableRRU: work.RRU / s.dt,
		ResStatePartition: work.StatePartitionWCU / s.dt, ResQuotaItem: 2 * quotaTx / s.dt,
		ResQuotaTx: quotaTx / s.dt, ResEvents: work.Events / s.dt,
	}
}

// offer records the demand of the work arriving this tick (not of the
// backlog): the load the population puts on each resource, throttled or not.
func (s *sim) offer(starts, ends float64) {
	for r, d := range s.needs(Phase{}.add(s.p.Mix.Start, starts).add(s.p.Mix.End, ends)) {
		s.demand(r, d)
	}
}

// serve runs as much of the pending work as the resources allow this tick.
func (s *sim) serve() {
	work := Phase{}.add(s.p.Mix.Start, s.pendingStart).add(s.p.Mix.End, s.pendingEnd)
	s.transTokens = math.Min(s.q.TransitionBucket, s.transTokens) + s.q.TransitionRefill*s.dt
	limits := s.q.limits()
	limits[ResTransitions] = s.transTokens / s.dt
	f, scarce := 1.0, ""
	for r, d := range s.needs(work) {
		if d > eps && limits[r]/d < f {
			f, scarce = limits[r]/d, r
		}
	}
	if scarce != "" {
		s.throttled[scarce]++
	}
	s.transTokens -= f * work.Transitions
	ranStart, ranEnd := f*s.pendingStart, f*s.pendingEnd
	s.pendingStart -= ranStart
	s.pendingEnd -= ranEnd
	s.open -= ranEnd
	s.done += ranEnd
	s.schedule(ranStart)
}

// schedule sets when the migrations whose first steps just ran will end.
func (s *sim) schedule(ran float64) {
	if ran <= 0 {
		return
	}
	if len(s.p.Responses) == 0 {
		s.pendingEnd += ran // ops migrations run straight through
		return
	}
	rest := 1.0
	for _, r := range s.p.Responses {
		s.due[(s.t+max(1, int(r.After/s.tick)))%len(s.due)] += ran * r.Share
		rest -= r.Share
	}
	s.due[(s.t+max(1, int(s.p.Expire/s.tick)))%len(s.due)] += ran * rest
}

func (s *sim) demand(r string, perSecond float64) {
	s.peak[r] = math.Max(s.peak[r], perSecond)
}

func (s *sim) plan() Plan {
	pl := Plan{Population: s.p, Makespan: time.Duration(s.t) * s.tick, AllStarted: time.Duration(s.allStarted+1) * s.tick,
		Bill: s.p.Mix.Bill.Scale(float64(s.p.Accounts))}
	for r, lim := range s.q.limits() {
		u := Use{Resource: r, Limit: lim, PeakDemand: s.peak[r], Throttled: time.Duration(s.throttled[r]) * s.tick}
		u.Utilization = u.PeakDemand / lim
		pl.Uses = append(pl.Uses, u)
	}
	sortUses(pl.Uses)
	return pl
}
