package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/devplatform/account-migration/bench/capplan"
	"github.com/devplatform/account-migration/bench/costmodel"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

const secCapacity = "8. A population planned against AWS's default quotas (go run ./bench/capacity; CAPACITY.md)"

// bulkCheck is the local check of the plan's core: N developer migrations
// started by opsctl bulk-start at concurrency C on one endpoint, against raw
// StartExecution calls on the same endpoint and against what the model
// predicts from a lone migration's settle time and the raw start rate.
type bulkCheck struct {
	Accounts, Concurrency int
	Bulk                  time.Duration // opsctl bulk-start: every account started and settled
	Raw                   time.Duration // the same number of bare StartExecution calls, same concurrency
	Lone                  time.Duration // one migration alone: StartExecution to every batch parked
	// Saturated is the raw starts' time until every one of their migrations
	// had parked: the endpoint's own throughput of workflow steps, its
	// binding limit here (one moto process runs every state machine).
	Saturated time.Duration
	// Predicted is the model: the slowest of ceil(N/C) waves of Lone, N at
	// the raw start rate, and N at the endpoint's saturated rate.
	Predicted time.Duration
}

func (b bulkCheck) bulkRate() float64 { return float64(b.Accounts) / b.Bulk.Seconds() }
func (b bulkCheck) rawRate() float64  { return float64(b.Accounts) / b.Raw.Seconds() }

// capacityCheck measures the bulk check on a fresh stack.
func (e env) capacityCheck(ctx context.Context, res *results, n, conc int) error {
	seed, err := cohortSnapshot(3*n + 1)
	if err != nil {
		return err
	}
	s, err := e.start(ctx, seed, conc)
	if err != nil {
		return err
	}
	defer s.Close()
	bin := filepath.Join(e.projectDir, ".build", "opsctl")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/opsctl").CombinedOutput(); err != nil {
		return fmt.Errorf("build opsctl: %v: %s", err, out)
	}
	c := bulkCheck{Accounts: n, Concurrency: conc}
	if c.Lone, err = loneSettle(ctx, s, cohortRef(3*n)); err != nil {
		return err
	}
	if c.Bulk, err = runBulk(ctx, bin, s, n, conc); err != nil {
		return err
	}
	t0 := time.Now()
	if c.Raw, err = rawStarts(ctx, s, n, conc); err != nil {
		return err
	}
	for i := range n {
		if _, err := loneWait(ctx, s, "raw-"+cohortRef(n+i).ID, t0); err != nil {
			return err
		}
	}
	c.Saturated = time.Since(t0)
	waves := (n + conc - 1) / conc
	c.Predicted = max(time.Duration(waves)*c.Lone, c.Raw, c.Saturated)
	slog.Info("capacity check", "accounts", n, "bulk", c.Bulk.Round(time.Millisecond), "raw", c.Raw.Round(time.Millisecond),
		"lone", c.Lone.Round(time.Millisecond), "predicted", c.Predicted.Round(time.Millisecond))
	res.Bulk = &c
	return nil
}

// cohortRef is the i-th cohort account.
func cohortRef(i int) migration.AccountRef {
	return migration.AccountRef{Platform: "microapp", ID: fmt.Sprintf("ma-k%04d", i)}
}

// cohortSnapshot is n accounts, each with one web app of its own company.
func cohortSnapshot(n int) ([]byte, error) {
	snap := migration.Snapshot{Version: 1}
	for i := range n {
		ref, subj := cohortRef(i), fmt.Sprintf("subj-k%04d", i)
		snap.Subjects = append(snap.Subjects, migration.Subject{ID: subj, Name: "Cohort " + subj + " Co., Ltd.", Kind: migration.SubjectCompany, Certified: true})
		snap.Accounts = append(snap.Accounts, migration.Account{Platform: migration.SourcePlatform(ref.Platform), ID: ref.ID, Login: ref.ID + "@example.com", SubjectID: subj})
		snap.Apps = append(snap.Apps, migration.App{ID: "app-" + ref.ID, Platform: migration.PlatformMicroapp, Kind: migration.AppWeb, Name: "App " + ref.ID,
			CreatorAccountID: ref.ID, SubjectID: subj, Certified: true})
	}
	if err := snap.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(snap)
}

func developerInput(ref migration.AccountRef) *string {
	b, _ := json.Marshal(map[string]any{"source": ref, "requestedBy": "ops:bench"})
	return aws.String(string(b))
}

// loneSettle starts one developer migration and times it until its batches
// wait on the developer with the workflow's token parked.
func loneSettle(ctx context.Context, s *localStack, ref migration.AccountRef) (time.Duration, error) {
	name := "lone-" + ref.ID
	t0 := time.Now()
	if _, err := s.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN), Name: aws.String(name), Input: developerInput(ref)}); err != nil {
		return 0, err
	}
	return loneWait(ctx, s, name, t0)
}

// loneWait waits until migration name has every batch parked on its
// agreement, and says how long after t0.
func loneWait(ctx context.Context, s *localStack, name string, t0 time.Time) (time.Duration, error) {
	store := dynamostore.New(s.db, s.TableName)
	for deadline := t0.Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		bs, err := store.Batches(ctx, name)
		if err != nil && !migration.IsCode(err, migration.CodeNotFound) {
			return 0, err
		}
		parked := len(bs) > 0
		for _, b := range bs {
			parked = parked && b.State == migration.AwaitingAgreement && b.Tokens[migration.StepAgreement] != ""
		}
		if parked {
			return time.Since(t0), nil
		}
	}
	return 0, fmt.Errorf("lone migration %s never parked", name)
}

var bulkSummary = regexp.MustCompile(`(\d+) accounts in ([0-9.]+)s`)

// runBulk runs opsctl bulk-start over accounts 0..n-1 as ops would.
func runBulk(ctx context.Context, bin string, s *localStack, n, conc int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "bench-bulk-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var csv strings.Builder
	csv.WriteString("platform,accountId\n")
	for i := range n {
		fmt.Fprintf(&csv, "%s,%s\n", cohortRef(i).Platform, cohortRef(i).ID)
	}
	cohort := filepath.Join(dir, "cohort.csv")
	if err := os.WriteFile(cohort, []byte(csv.String()), 0o600); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, bin, "--endpoint-url", s.AWSEndpoint, "--region", s.Region, "--table", s.TableName,
		"--state-machine-arn", s.StateMachineARN, "bulk-start", "--accounts", cohort, "--results", filepath.Join(dir, "results.jsonl"),
		"--concurrency", strconv.Itoa(conc), "--poll", "100ms", "--requested-by", "ops:bench")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("opsctl bulk-start: %v: %s", err, truncate(out, 2000))
	}
	m := bulkSummary.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("opsctl bulk-start said no summary: %s", truncate(out, 2000))
	}
	secs, _ := strconv.ParseFloat(string(m[2]), 64)
	return time.Duration(secs * float64(time.Second)), nil
}

// rawStarts times n bare StartExecution calls (accounts n..2n-1) at conc at once.
func rawStarts(ctx context.Context, s *localStack, n, conc int) (time.Duration, error) {
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ref := cohortRef(n + i)
				_, err := s.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN),
					Name: aws.String("raw-" + ref.ID), Input: developerInput(ref)})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	took := time.Since(t0)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return took, nil
}

// planMix is the measured migration the population plan replays: the 100-asset
// one-batch account when it was run, else the smallest priced one.
func (r *results) planMix() (capplan.Mix, bool) {
	var best *commitRun
	for _, c := range append(append(append([]commitRun(nil), r.Commits...), r.Costs...), r.Payloads...) {
		if c.Batches == 0 || len(c.Lambdas) == 0 || c.Writes.Requests == nil {
			continue
		}
		if best == nil || (c.W.Assets == 100 && c.Batches == 1) || (!(best.W.Assets == 100 && best.Batches == 1) && c.W.Assets < best.W.Assets) {
			cc := c
			best = &cc
		}
	}
	if best == nil {
		return capplan.Mix{}, false
	}
	return capplan.MixFrom(capplan.Measured{Label: fmt.Sprintf("%d assets in %d batch(es)", best.W.Assets, best.Batches), Batches: best.Batches,
		Transitions: best.History.Transitions, ByState: best.History.ByState, Invocations: best.Lambdas,
		WRU: float64(best.Writes.Units), RRU: best.Writes.ReadUnits, Events: best.History.PutEvents}, costmodel.USEast1Arm64), true
}

// capacityFigures are the plan's makespans for the standard populations and
// the local check.
func (r *results) capacityFigures() []figure {
	var figs []figure
	if b := r.Bulk; b != nil {
		figs = append(figs,
			figure{Section: secCapacity, Name: "bulk_start_rate", Label: fmt.Sprintf("opsctl bulk-start, %d accounts at concurrency %d: started and settled", b.Accounts, b.Concurrency),
				Value: b.bulkRate(), Unit: "accounts/s", Note: fmt.Sprintf("%.2f s", b.Bulk.Seconds())},
			figure{Section: secCapacity, Name: "raw_start_rate", Label: "bare StartExecution calls on the same endpoint, same concurrency", Value: b.rawRate(), Unit: "calls/s",
				Note: fmt.Sprintf("%.2f s; bulk-start runs at %.0f%% of it", b.Raw.Seconds(), 100*b.bulkRate()/b.rawRate())},
			figure{Section: secCapacity, Name: "bulk_model_ratio", Label: "the model's bulk makespan / the measured one", Value: b.Predicted.Seconds() / b.Bulk.Seconds(), Unit: "ratio",
				Note: fmt.Sprintf("predicted %.2f s: the slowest of %d waves of a lone migration's %.2f s, the raw starts' %.2f s and the endpoint saturated (%d at once settled in %.2f s)",
					b.Predicted.Seconds(), (b.Accounts+b.Concurrency-1)/b.Concurrency, b.Lone.Seconds(), b.Raw.Seconds(), b.Accounts, b.Saturated.Seconds())})
	}
	mix, ok := r.planMix()
	if !ok {
		return figs
	}
	for _, mode := range []string{"developer", "ops"} {
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			p := standardPopulation(n, mode, mix)
			pl := capplan.Simulate(p, capplan.AWSDefaults, 10*time.Second)
			maxRate, binding := capplan.MaxRate(p, capplan.AWSDefaults, 10*time.Second)
			figs = append(figs, figure{Section: secCapacity, Name: fmt.Sprintf("capacity_days_%s_%d", mode, n),
				Label: fmt.Sprintf("%s accounts, %s migrations at %s starts a day: all ended", thousands(n), mode, thousands(int(standardStartsPerDay))),
				Value: pl.Makespan.Hours() / 24, Unit: "days",
				Note: fmt.Sprintf("all started after %.1f days; busiest: %s at %.1f%%; the first quota to bind, from %.3g starts a day: %s; bill $%.0f",
					pl.AllStarted.Hours()/24, pl.Uses[0].Resource, 100*pl.Uses[0].Utilization, maxRate, binding, pl.Bill.Total())})
		}
	}
	return figs
}

// standardStartsPerDay is the daily start rate the BENCH makespans assume.
const standardStartsPerDay = 100_000

// standardPopulation is CAPACITY.md's population: developer migrations wait
// on developers (capplan.DeveloperResponses, 30-day expiry); ops migrations
// carry every answer; one company holds 5 % of the accounts.
func standardPopulation(n int, mode string, mix capplan.Mix) capplan.Population {
	p := capplan.Population{Accounts: n, StartsPerDay: standardStartsPerDay, Expire: 30 * 24 * time.Hour, BigCompanyShare: 0.05, Mix: mix}
	if mode == "developer" {
		p.Responses = capplan.DeveloperResponses
	}
	return p
}
