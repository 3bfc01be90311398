package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/faultproxy"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/httpapi"
	"github.com/devplatform/account-migration/shared/metrics"
	"github.com/devplatform/account-migration/shared/migration"
)

// soakFaults are the wire faults of the soak, drawn per request to DynamoDB.
// Lost answers only make sense for writes; the rest hit every operation.
var soakFaults = []faultproxy.Rule{
	{Kind: faultproxy.LostAnswer, Operations: faultproxy.DynamoDBWrites, Probability: 0.04},
	{Kind: faultproxy.Throttle, Probability: 0.02},
	{Kind: faultproxy.Throttle, Probability: 0.02, Code: faultproxy.CodeThrottling},
	{Kind: faultproxy.ServerError, Probability: 0.015},
	{Kind: faultproxy.ServerError, Probability: 0.005, Status: 503},
	{Kind: faultproxy.Latency, Probability: 0.05, MinDelay: time.Millisecond, MaxDelay: 25 * time.Millisecond},
}

// soakReport is the run's figures (RELIABILITY.md quotes them).
type soakReport struct {
	Seed       uint64                    `json:"seed"`
	Tables     int                       `json:"tables"`
	Migrations int                       `json:"migrations"`
	Restarts   int                       `json:"restarts"`
	Batches    map[string]int            `json:"batches"`
	FailedBy   map[string]int            `json:"failedBy"`
	Assets     int                       `json:"assets"`
	Moved      int                       `json:"moved"`
	Skipped    int                       `json:"skipped"`
	Lost       int                       `json:"lost"`
	Duplicated int                       `json:"duplicated"`
	Requests   int                       `json:"requests"`
	Faults     map[faultproxy.Kind]int   `json:"faults"`
	FaultsByOp map[string]map[string]int `json:"faultsByOperation"`
	Kills      int                       `json:"kills"`
	Events     map[string]int            `json:"events"`
	Business   map[string]int            `json:"businessAnswers"`
	// Transient failures that reached the use cases (after the SDK's own
	// retry), by "operation code", with one sample error text each.
	Transients       map[string]int    `json:"transientsReachingUseCases"`
	TransientSamples map[string]string `json:"transientSamples"`
	Seconds          float64           `json:"seconds"`
	CutByBudget      bool              `json:"cutByBudget,omitempty"`
	Violations       []string          `json:"violations,omitempty"`
	Unexpected       []string          `json:"unexpected,omitempty"`
}

// TestSoak drives at least SOAK_MIGRATIONS migrations (default 1,000) through
// the use cases under random wire faults and kills, then checks every
// invariant. The accounts come in tables of SOAK_ACCOUNTS_PER_TABLE (default
// 5), each a fresh copy of the template's table holding its own population;
// SOAK_TABLES tables (default 16) are in flight at once over SOAK_MOTOS moto
// servers (default 2), every account's migration concurrently with all the
// others of its table, and each table is checked as soon as its accounts are
// done. SOAK_SECONDS keeps starting tables until that much time has passed too
// (longer runs: make soak). SOAK_SEED picks the run; SOAK_REPORT names a file
// to write the figures to as JSON.
//
// SOAK_BUDGET_SECONDS (default 300, 0 = none) stops starting tables after
// that long, so that `make test` stays bounded on a slow or busy machine: moto
// serves ~200 requests a second per core and a migration takes ~55. A run cut
// short says so in its log; the invariants are checked all the same.
func TestSoak(t *testing.T) {
	target := envInt("SOAK_MIGRATIONS", 1000)
	minDuration := time.Duration(envInt("SOAK_SECONDS", 0)) * time.Second
	inFlight := max(1, envInt("SOAK_TABLES", 16))
	perTable := max(1, envInt("SOAK_ACCOUNTS_PER_TABLE", 5))
	servers := max(1, envInt("SOAK_MOTOS", 2))
	budget := time.Duration(envInt("SOAK_BUDGET_SECONDS", 300)) * time.Second
	seed := uint64(envInt("SOAK_SEED", int(time.Now().UnixNano()%1e9)))
	t.Logf("soak: seed=%d (rerun with SOAK_SEED=%d)", seed, seed)
	// The HTTP edge and the use cases emit a metric line per refusal: not
	// what this log is for.
	old := metrics.SetDefault(metrics.New(io.Discard))
	t.Cleanup(func() { metrics.SetDefault(old) })
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	ctx := context.Background()
	began := time.Now()

	backends := newBackends(t, servers, rng.Uint64())
	for _, be := range backends {
		be.proxy.SetRules(soakFaults...)
	}
	tl := newTally()
	c := &caller{killRate: 0.03, maxAttempts: 40, tally: tl}
	var (
		mu      sync.Mutex
		sum     verdict
		tables  int
		errs    []error
		stop    atomic.Bool
		wg      sync.WaitGroup
		slots   = make(chan struct{}, inFlight)
		started = 0
	)
	// Every account holds a certified mini-program, so each one is at least
	// one migration: starting target accounts gives at least target migrations.
	cut := false
	for n := 0; (started < target || time.Since(began) < minDuration) && !stop.Load(); n++ {
		if budget > 0 && time.Since(began) > budget && time.Since(began) > minDuration {
			cut = true
			break
		}
		pop := buildPopulation(rng, fmt.Sprintf("t%d", n), perTable, n%10 == 0)
		started += perTable
		be, chunk := backends[n%len(backends)], 2+rng.IntN(6)
		rngs := make([]*rand.Rand, len(pop.accounts))
		for i := range rngs {
			rngs[i] = child(rng)
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			v, table, err := soakTable(ctx, be, fmt.Sprintf("%s-%d", be.table, n), pop, chunk, rngs, c, tl)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				stop.Store(true)
				return
			}
			sum.merge(v, table)
			tables++
			if len(v.Violations) > 0 {
				stop.Store(true) // the report names them; more tables add nothing
			}
			if tables%40 == 0 {
				t.Logf("soak: %d tables checked, %d migrations, lost=%d duplicated=%d, %s", tables, tl.migrationCount(), sum.Lost, sum.Duplicated, time.Since(began).Round(time.Second))
			}
		}()
	}
	wg.Wait()
	require.Empty(t, errs, "setting up or reading a table")
	var counts faultproxy.Counts
	for _, be := range backends {
		be.proxy.SetRules()
		counts = counts.Add(be.proxy.Counts())
	}
	rep := soakReport{Seed: seed, Tables: tables, CutByBudget: cut && tl.migrationCount() < target}
	rep.add(tl, sum, counts)
	rep.Seconds = time.Since(began).Seconds()
	t.Log(rep.summary())
	t.Log(rep.paths())
	for _, k := range sortedKeys(rep.Transients) {
		t.Logf("transient failure reaching a use case: %s x%d (e.g. %s)", k, rep.Transients[k], rep.TransientSamples[k])
	}
	if path := os.Getenv("SOAK_REPORT"); path != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}

	assert.Empty(t, rep.Violations, "invariants")
	assert.Empty(t, rep.Unexpected, "answers the rules do not explain")
	assert.Zero(t, rep.Lost, "lost")
	assert.Zero(t, rep.Duplicated, "duplicated")
	if cut && rep.Migrations < target {
		t.Logf("soak: the time budget (SOAK_BUDGET_SECONDS) stopped the run at %d migrations of %d; this machine is slow or busy", rep.Migrations, target)
	} else {
		assert.GreaterOrEqual(t, rep.Migrations, target)
	}
	// The run proves something only if the faults and races happened (a run
	// of a few dozen migrations may miss one by chance).
	if rep.Migrations >= 200 {
		for _, k := range []faultproxy.Kind{faultproxy.LostAnswer, faultproxy.Throttle, faultproxy.ServerError, faultproxy.Latency} {
			assert.Positive(t, rep.Faults[k], "faults of kind %s injected", k)
		}
		assert.Positive(t, rep.Kills, "callers killed mid-step")
		assert.Positive(t, rep.Batches[string(migration.Committed)])
		assert.Positive(t, rep.Batches[string(migration.Expired)])
		assert.Positive(t, rep.FailedBy[string(migration.CodeQuotaExceeded)], "quota races lost")
		assert.Positive(t, rep.Events["race confirm-clicks"], "concurrent confirmations")
		assert.Positive(t, rep.Events["race movers"], "concurrent movers")
		assert.Positive(t, rep.Events["path replayed-refusals"], "422 refusals replayed through the HTTP edge")
	}
	// The less-travelled paths ran, each at least once: table 0 always has a wide
	// account and (with 2+ accounts a table) an ops account, and every table
	// re-imports its snapshot at its first commit.
	assert.Positive(t, rep.Events["path wide-migrations"], "migrations with more batches than the old Map limit")
	assert.Positive(t, rep.Events["path reimports"], "re-imports into a live table")
	if perTable >= 2 {
		assert.Positive(t, rep.Events["path ops-races"], "ops acceptances racing the developer's")
	}
}

// paths is the line that says how often the less-travelled paths ran.
func (r *soakReport) paths() string {
	e := r.Events
	return fmt.Sprintf("soak paths: wide migrations=%d (%d batches) reimports=%d (rows left unchanged %d, added 0) replayed refusals=%d "+
		"ops races=%d (won by ops %d, by the developer %d) edge commits=%d",
		e["path wide-migrations"], e["path wide-batches"], e["path reimports"], e["path reimported-rows-unchanged"], e["path replayed-refusals"],
		e["path ops-races"], e["path ops-races-won-by-ops"], e["path ops-races-won-by-developer"], e["path edge-commits"])
}

func (r *soakReport) add(tl *tally, v verdict, c faultproxy.Counts) {
	r.Migrations, r.Restarts = tl.migrations, tl.restarts
	r.Batches, r.FailedBy = map[string]int{}, map[string]int{}
	for s, n := range v.Batches {
		r.Batches[string(s)] += n
	}
	for code, n := range tl.failedBy {
		r.FailedBy[string(code)] += n
	}
	r.Assets, r.Moved, r.Skipped, r.Lost, r.Duplicated = v.Assets, v.Moved, v.Skipped, v.Lost, v.Duplicated
	r.Requests = c.Requests
	r.Faults = c.ByKind
	r.FaultsByOp = map[string]map[string]int{}
	for op, m := range c.ByOperation {
		r.FaultsByOp[op] = map[string]int{}
		for k, n := range m {
			r.FaultsByOp[op][string(k)] = n
		}
	}
	r.Kills = tl.kills()
	r.Events, r.Business = tl.events, tl.business
	r.Transients, r.TransientSamples = map[string]int{}, map[string]string{}
	for op, m := range tl.transients {
		for code, n := range m {
			r.Transients[op+" "+code] = n
			r.TransientSamples[op+" "+code] = tl.samples[op+"/"+code]
		}
	}
	r.Violations = v.Violations
	r.Unexpected = tl.unexpecteds
}

// soakTable runs one table's population to the end and checks the table.
func soakTable(ctx context.Context, be *backend, table string, pop population, chunk int, rngs []*rand.Rand, c *caller, tl *tally) (verdict, string, error) {
	w, err := be.world(ctx, table, pop.snap, chunk)
	if err != nil {
		return verdict{}, table, err
	}
	edge := &httpapi.API{Migrator: w.m, Idempotency: dynamostore.New(be.clean, table), Ops: w.store,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), IdempotencyLease: time.Second, IdempotencyWait: 3 * time.Second}
	var reimport sync.Once
	committed := func(ctx context.Context) {
		reimport.Do(func() { reimportSnapshot(ctx, be.clean, table, pop.snap, tl) })
	}
	var wg sync.WaitGroup
	for i, acct := range pop.accounts {
		d := &developer{m: w.m, store: w.store, acct: acct, c: c, t: tl, edge: edge, committed: committed}
		wg.Add(1)
		go func() { defer wg.Done(); d.run(ctx, rngs[i]) }()
	}
	wg.Wait()
	st, err := readTable(ctx, w.clean, w.table)
	if err != nil {
		return verdict{}, table, err
	}
	v := check(pop.snap, st, true)
	more, err := reconciled(ctx, w.clean, w.table)
	if err != nil {
		return verdict{}, table, err
	}
	v.Violations = append(v.Violations, more...)
	// Checked: the table is no longer needed, and moto is faster without it.
	_, err = w.clean.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	return v, table, err
}

// reimportSnapshot loads the round's snapshot into its live table again, the
// first time a batch of the table is seen COMMITTED, while the other
// developers of the table still act: the import must add nothing and leave
// every row as it is (the table's check then finds nothing moved back).
// Imports go straight to moto, unfaulted: a faulted one is finished by
// running it again, which shared/dynamostore's tests prove.
func reimportSnapshot(ctx context.Context, db *dynamodb.Client, table string, snap *migration.Snapshot, tl *tally) {
	rep, err := dynamostore.New(db, table).Import(ctx, snap)
	if err != nil {
		tl.unexpected("re-import into live table %s: %v", table, err)
		return
	}
	added, unchanged := 0, 0
	for _, n := range rep.Added {
		added += n
	}
	for _, n := range rep.Unchanged {
		unchanged += n
	}
	if added > 0 {
		tl.unexpected("re-import into live table %s added %d rows: %v", table, added, rep.Added)
	}
	tl.count("path", "reimports")
	tl.countN("path reimported-rows-unchanged", unchanged)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// summary is the one line RELIABILITY.md quotes.
func (r *soakReport) summary() string {
	return fmt.Sprintf("soak summary: seed=%d tables=%d migrations=%d (restarts %d) batches[committed=%d failed=%d expired=%d] "+
		"assets=%d moved=%d skipped=%d lost=%d duplicated=%d faults[requests=%d lost_answer=%d throttle=%d server_error=%d latency=%d] kills=%d seconds=%.0f",
		r.Seed, r.Tables, r.Migrations, r.Restarts, r.Batches[string(migration.Committed)], r.Batches[string(migration.Failed)], r.Batches[string(migration.Expired)],
		r.Assets, r.Moved, r.Skipped, r.Lost, r.Duplicated, r.Requests, r.Faults[faultproxy.LostAnswer], r.Faults[faultproxy.Throttle],
		r.Faults[faultproxy.ServerError], r.Faults[faultproxy.Latency], r.Kills, r.Seconds)
}
