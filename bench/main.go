// Command bench measures the service on the local stack side by side with
// what it is built on: the commit against the store's own best case,
// the cost of a batch, the size of state payloads, cold starts against a
// hello-world Lambda, and API latency against the raw queries it needs. The
// machines are noisy, so ratios measured in one run are the figures that
// count. It prints one `BENCH <name> <value> <unit>` line per figure and
// rewrites the table in BENCHMARKS.md between its markers.
//
//	go run ./bench                   # everything (make bench)
//	go run ./bench -only commit -sizes 100,1000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	projectDir   string
	only         map[string]bool
	sizes        []int    // single-batch commits (growth; 2,000 and 10,000 for throughput)
	payloadSizes []int    // accounts spread over payloadSubjects
	costAccounts [][2]int // assets x subjects, run for their price
	bulkAccounts int      // accounts of the bulk-start check
	subjects     int
	coldRuns     int
	apiApps      int
	apiClients   int
	apiRequests  int
	report       string
	plot         string
	logDir       string
	verbose      bool
	profileSize  int
	coldCompare  string
	from         string
	importSizes  []int
}

func main() {
	var o options
	var only, sizes, payloadSizes, costAccounts, importSizes string
	flag.StringVar(&o.projectDir, "project", ".", "project root (template.yaml, .build)")
	flag.StringVar(&only, "only", "cold,commit,payload,api,profile,cost,capacity,import", "sections to run: cold, commit, payload, api, profile, cost, capacity, import")
	flag.StringVar(&importSizes, "import-sizes", "10000,100000", "records of the import section's generated inputs (peak memory is compared between the first and the last)")
	flag.IntVar(&o.bulkAccounts, "bulk-accounts", 40, "accounts of the bulk-start check (capacity section)")
	flag.StringVar(&costAccounts, "cost-accounts", "500x5", "accounts (assets x subjects) run for their price alone; the commit section's single-batch runs are priced too")
	flag.StringVar(&sizes, "sizes", "100,1000,2000,5000,10000", "single-batch commit sizes (assets)")
	flag.StringVar(&payloadSizes, "payload-sizes", "1000", "account sizes (assets) for the payload bound, each across -subjects (each 200-subject account takes ~4 minutes in moto)")
	flag.IntVar(&o.subjects, "subjects", 200, "subjects the payload-bound accounts span")
	flag.IntVar(&o.coldRuns, "cold-runs", 7, "cold starts per function")
	flag.IntVar(&o.apiApps, "api-apps", 1000, "apps of the account the API latency is measured on")
	flag.IntVar(&o.apiClients, "api-clients", 16, "concurrent API clients")
	flag.IntVar(&o.apiRequests, "api-requests", 5, "requests per client per route")
	flag.StringVar(&o.report, "report", "BENCHMARKS.md", "file whose table is rewritten (\"\" = none)")
	flag.StringVar(&o.plot, "plot", "docs/growth.png", "growth plot (\"\" = none)")
	flag.StringVar(&o.logDir, "logs", ".build/bench", "where stack logs and profiles go")
	flag.BoolVar(&o.verbose, "v", false, "debug logging")
	flag.StringVar(&o.coldCompare, "cold-compare", "", "a copy of .build from other code to start beside this one (before/after)")
	flag.StringVar(&o.from, "from", "", "measure nothing: render the report and plot from a results.json of an earlier run")
	flag.IntVar(&o.profileSize, "profile-assets", 2000, "assets of the profiled in-process move")
	flag.Parse()
	o.only = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		o.only[strings.TrimSpace(s)] = true
	}
	var err error
	if o.sizes, err = parseInts(sizes); err != nil {
		fail(err)
	}
	if o.payloadSizes, err = parseInts(payloadSizes); err != nil {
		fail(err)
	}
	if o.importSizes, err = parseInts(importSizes); err != nil {
		fail(err)
	}
	if o.costAccounts, err = parseShapes(costAccounts); err != nil {
		fail(err)
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("not a size: %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, o options) error {
	if o.from != "" {
		return render(o, o.from)
	}
	began := time.Now()
	m := describeMachine(commandLine())
	logDir := filepath.Join(o.projectDir, o.logDir)
	logs, err := openLogs(logDir)
	if err != nil {
		return err
	}
	defer logs.Close()
	// moto's request recorder writes here (moto inherits this environment).
	os.Setenv("MOTO_RECORDER_FILEPATH", filepath.Join(logDir, "moto-recording.jsonl"))
	e := env{projectDir: o.projectDir, logs: io.Writer(logs), poolSize: 3, historyDir: logDir}
	if e.lambdas, err = readTemplateLambdas(o.projectDir); err != nil {
		return err
	}
	res, err := e.measure(ctx, o, logDir)
	if err != nil {
		return err
	}

	m.Took, m.LoadEnd = time.Since(began), loadAverage()
	saved := filepath.Join(logDir, "results.json")
	if err := saveResults(saved, m, res); err != nil {
		return err
	}
	if err := output(o, m, res); err != nil {
		return err
	}
	slog.Info("bench done", "took", time.Since(began).Round(time.Second), "results", saved)
	return nil
}

// measure runs the sections -only asks for, one after the other.
func (e env) measure(ctx context.Context, o options, logDir string) (*results, error) {
	res := &results{}
	var err error
	if o.only["cold"] {
		slog.Info("cold starts", "runs", o.coldRuns)
		if res.Cold, err = e.coldStarts(ctx, o.coldRuns, logDir, o.coldCompare); err != nil {
			return nil, fmt.Errorf("cold starts: %w", err)
		}
		for _, c := range res.Cold {
			slog.Info("cold start", "function", c.ID, "median", c.median(), "size", c.Size)
		}
	}
	if o.only["commit"] {
		if res.Commits, err = e.migrations(ctx, singleBatches(o.sizes), "commit of", true, 0); err != nil {
			return nil, err
		}
	}
	if o.only["payload"] {
		// Ten emulators per function, as Lambda would run for the Map's
		// ten batches at once: no invoke waits for an instance.
		if res.Payloads, err = e.migrations(ctx, spread(o.payloadSizes, o.subjects), "payload run of", false, 10); err != nil {
			return nil, err
		}
	}
	if o.only["cost"] {
		if res.Costs, err = e.migrations(ctx, o.costAccounts, "cost run of", false, 0); err != nil {
			return nil, err
		}
	}
	if o.only["capacity"] {
		if err := e.capacityCheck(ctx, res, o.bulkAccounts, 8); err != nil {
			return nil, fmt.Errorf("capacity check: %w", err)
		}
	}
	if o.only["api"] {
		a, err := e.apiLatency(ctx, o.apiApps, o.apiClients, o.apiRequests)
		if err != nil {
			return nil, fmt.Errorf("api latency: %w", err)
		}
		res.API = &a
	}
	if o.only["import"] {
		if res.Imports, err = e.importRates(ctx, o.importSizes, logDir); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
	}
	if o.only["profile"] {
		if err := e.profile(ctx, res, o.profileSize, logDir); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// migrations runs one recorded migration per account shape (assets x
// subjects); what names the run in an error ("commit of" 100 assets).
func (e env) migrations(ctx context.Context, shapes [][2]int, what string, baseline bool, pool int) ([]commitRun, error) {
	var runs []commitRun
	for _, sh := range shapes {
		w, err := newWorkload(sh[0], sh[1])
		if err != nil {
			return nil, err
		}
		r, err := e.runMigration(ctx, w, true, baseline, pool)
		if err != nil {
			return nil, fmt.Errorf("%s %d assets: %w", what, sh[0], err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// singleBatches are accounts of one subject: one batch each.
func singleBatches(sizes []int) [][2]int {
	var out [][2]int
	for _, n := range sizes {
		out = append(out, [2]int{n, 1})
	}
	return out
}

// spread are accounts of the given sizes across subjects (at most one asset
// a subject).
func spread(sizes []int, subjects int) [][2]int {
	var out [][2]int
	for _, n := range sizes {
		out = append(out, [2]int{n, min(subjects, n)})
	}
	return out
}

// profile profiles an in-process move of assets into res.Profile.
func (e env) profile(ctx context.Context, res *results, assets int, logDir string) error {
	w, err := newWorkload(assets, 1)
	if err != nil {
		return err
	}
	p, err := e.profileMove(ctx, w, filepath.Join(logDir, "move.cpu.pprof"))
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	res.Profile = &p
	fmt.Fprint(os.Stderr, p)
	return nil
}

// render writes the BENCH lines, the report and the plot of a saved run.
func render(o options, path string) error {
	m, res, err := loadResults(path)
	if err != nil {
		return err
	}
	return output(o, m, res)
}

// output prints the BENCH lines and rewrites the report and the plot.
func output(o options, m machine, res *results) error {
	figs := res.figures()
	printBench(os.Stdout, figs)
	if o.plot != "" {
		if c, ok := res.growthChart(m.Date); ok {
			if err := writeChart(inProject(o.projectDir, o.plot), c); err != nil {
				return err
			}
		}
	}
	if o.report != "" {
		gen := table(m, figs)
		if res.Profile != nil {
			gen += "\n**Where an in-process move's time goes** (`go run ./bench -only profile`; CPU profile in " + o.logDir + "/move.cpu.pprof)\n\n```\n" + res.Profile.String() + "```\n"
		}
		if err := rewriteReport(inProject(o.projectDir, o.report), gen); err != nil {
			return err
		}
	}
	return nil
}

// inProject resolves a path given relative to the project.
func inProject(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// commandLine is how this run was asked for, as a reader would repeat it.
func commandLine() string {
	if c := os.Getenv("BENCH_COMMAND"); c != "" {
		return c
	}
	return "go run ./bench " + strings.Join(os.Args[1:], " ")
}

// parseShapes reads "500x5,100x1" (assets x subjects).
func parseShapes(s string) ([][2]int, error) {
	var out [][2]int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		a, b, ok := strings.Cut(f, "x")
		n, err1 := strconv.Atoi(a)
		k, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n <= 0 || k <= 0 || k > n {
			return nil, fmt.Errorf("not an account shape (assets x subjects): %q", f)
		}
		out = append(out, [2]int{n, k})
	}
	return out, nil
}
