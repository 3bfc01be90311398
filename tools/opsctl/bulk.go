package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/stepfunctions"
	"github.com/devplatform/account-migration/shared/workflow"
)

func runBulkStart(ctx context.Context, c *cli, args []string) (int, error) {
	o, err := bulkFlags(c, args)
	if err != nil {
		return exitError, err
	}
	// With --output json, stdout carries only the results' JSON lines; what
	// is said around them goes to stderr.
	asJSON, say := c.g.output == outputJSON, c.stdout
	if asJSON {
		say = c.stderr
	}
	w, err := o.work(say)
	if err != nil {
		return exitError, err
	}
	env, err := c.env(ctx)
	if err != nil {
		return exitError, err
	}
	if o.dryRun {
		if asJSON { // the plan is lines of text: {"message": ...} lines
			cw := &convertingWriter{w: c.stdout, kind: writesText, want: &c.g.output}
			c.stdout = cw
			defer cw.Close()
		}
		return planBulk(ctx, c, env, w, o.resultsPath)
	}
	if len(w.todo) > 0 {
		prog := newBulkProgress(c.stdout, c.stderr, len(w.todo), asJSON)
		if err := runCohort(ctx, say, prog, env, o, w); err != nil {
			return exitError, err
		}
	}
	return reportResults(say, o.resultsPath, w.results)
}

// bulkOptions are bulk-start's flags.
type bulkOptions struct {
	accountsPath, retryFrom, resultsPath string
	concurrency                          int
	requestedBy, prefix                  string
	timeout, poll                        time.Duration
	dryRun                               bool
}

func bulkFlags(c *cli, args []string) (bulkOptions, error) {
	var o bulkOptions
	fs := c.flags("bulk-start")
	fs.StringVar(&o.accountsPath, "accounts", "", "cohort: CSV (header platform,accountId[,batchKeys]) or JSON array of {\"platform\",\"accountId\"}")
	fs.StringVar(&o.retryFrom, "retry-from", "", "a results file of an earlier run: retry only its accounts with an error or a FAILED state")
	fs.StringVar(&o.resultsPath, "results", "", "where to write one JSON line per account (default: results.jsonl, or the --retry-from file, updated in place)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "accounts in flight at once (started and not yet settled)")
	fs.StringVar(&o.requestedBy, "requested-by", "ops:opsctl", "requestedBy of every execution (docs/CONTRACT.md §3), e.g. ops:<your name>")
	fs.StringVar(&o.prefix, "name-prefix", "bulk", "execution names are <prefix>-<platform>-<accountId>-<hash>; the same prefix finds the same executions again (a retry takes the names from its file)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "per account: how long to wait for its execution to settle")
	fs.DurationVar(&o.poll, "poll", time.Second, "how often to look at each execution in flight")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be started or followed, per account; start nothing, write no results file")
	if err := parse(fs, args); err != nil {
		return o, err
	}
	if (o.accountsPath == "") == (o.retryFrom == "") {
		return o, errors.New("give exactly one of --accounts or --retry-from")
	}
	if o.concurrency < 1 {
		return o, errors.New("--concurrency must be at least 1")
	}
	return o, nil
}

// work is the run's plan: the whole cohort, or the failed lines of an
// earlier run; it also settles where the results go.
func (o *bulkOptions) work(stdout io.Writer) (*cohortWork, error) {
	if o.retryFrom != "" {
		w, err := retryWork(o.retryFrom, o.prefix)
		if err != nil {
			return nil, err
		}
		if o.resultsPath == "" {
			o.resultsPath = o.retryFrom
		}
		fmt.Fprintf(stdout, "%sretrying %d of %d accounts from %s\n", dryRunTag(o.dryRun), len(w.todo), len(w.results), o.retryFrom)
		return w, nil
	}
	w, err := freshWork(o.accountsPath, o.prefix)
	if err != nil {
		return nil, err
	}
	if o.resultsPath == "" {
		o.resultsPath = "results.jsonl"
	}
	return w, nil
}

// runCohort settles every account of w.todo into w.results, with progress,
// and says how it went on say.
func runCohort(ctx context.Context, say io.Writer, prog *progress, env *awsEnv, o bulkOptions, w *cohortWork) error {
	arn, err := env.stateMachine(ctx)
	if err != nil {
		prog.finish()
		return err
	}
	b := &bulk{env: env, starter: &stepfunctions.Client{API: env.sf, StateMachineArn: arn},
		requestedBy: o.requestedBy, timeout: o.timeout, poll: max(o.poll, 100*time.Millisecond)}
	began := time.Now()
	b.settleAll(ctx, w, o.concurrency, prog)
	prog.finish()
	for _, i := range w.todo {
		if w.results[i].ExecutionArn == "" && w.results[i].Error == "" {
			w.results[i].Error = "interrupted before it started"
		}
	}
	fmt.Fprintf(say, "%d accounts in %.1fs: %s\n", len(w.todo), time.Since(began).Seconds(), tally(w.results, w.todo))
	return nil
}

// settleAll hands the accounts of w.todo to at most concurrency workers, each
// settling one at a time; once ctx ends no more are handed out.
func (b *bulk) settleAll(ctx context.Context, w *cohortWork, concurrency int, prog *progress) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(concurrency, len(w.todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				prog.started()
				w.results[i] = b.settle(ctx, w.results[i], w.names[i], w.attempts[i])
				prog.settled(w.results[i])
			}
		}()
	}
feed:
	for _, i := range w.todo {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
}

// reportResults writes the results file and says what failed, with the
// retry that picks it up.
func reportResults(stdout io.Writer, path string, results []result) (int, error) {
	if err := writeResults(path, results); err != nil {
		return exitError, fmt.Errorf("write results: %w", err)
	}
	failed := 0
	for _, r := range results {
		if r.failed() {
			failed++
		}
	}
	fmt.Fprintf(stdout, "results: %s (%d lines)\n", path, len(results))
	if failed > 0 {
		fmt.Fprintf(stdout, "%d account(s) failed; after fixing the cause: opsctl bulk-start --retry-from %s\n", failed, path)
		return exitFindings, nil
	}
	return exitOK, nil
}

// tally counts outcomes: "195 IN_PROGRESS (waiting on the developer), 5 FAILED".
func tally(rs []result, idx []int) string {
	n := map[string]int{}
	for _, i := range idx {
		k := rs[i].State
		if rs[i].Error != "" && k != stateFailed {
			k = "ERROR"
		}
		if k == "" {
			k = "UNKNOWN"
		}
		n[k]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		label := k
		if k == string(migration.MigrationInProgress) {
			label += " (waiting on the developer)"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n[k], label))
	}
	return strings.Join(parts, ", ")
}

// bulk starts and follows one account's execution at a time per worker.
type bulk struct {
	env         *awsEnv
	starter     *stepfunctions.Client
	requestedBy string
	timeout     time.Duration
	poll        time.Duration
}

// settle starts the account's execution (or finds it again by name) and
// follows it to a settled point: ended, or running and waiting on the
// developer for every batch still open. Nothing here fails the run: every
// problem ends up in the account's result line. prev is the account's line of
// an earlier run (only platform, accountId and batchKeys for a first run).
func (b *bulk) settle(ctx context.Context, prev result, name string, attempt int) result {
	a := prev.account()
	src := migration.AccountRef{Platform: a.Platform, ID: a.AccountID}
	if attempt > 1 && prev.MigrationID != "" {
		// The earlier attempt may have claimed the account and failed before
		// creating its migration; that claim would turn this attempt away.
		if _, err := b.releaseStaleClaim(ctx, src, prev.MigrationID); err != nil {
			return result{Platform: a.Platform, AccountID: a.AccountID, BatchKeys: a.BatchKeys, Attempt: attempt, Error: "release stale claim: " + err.Error()}
		}
	}
	r := b.attempt(ctx, a, name, attempt)
	if r.staleClaimReleased {
		r = b.attempt(ctx, a, nextAttemptName(name), attempt+1) // the account is free now: once more
	}
	return r
}

// attempt runs one execution of the account to its settled point.
func (b *bulk) attempt(ctx context.Context, a account, name string, attempt int) (r result) {
	began := time.Now()
	r = result{Platform: a.Platform, AccountID: a.AccountID, BatchKeys: a.BatchKeys, MigrationID: name, Attempt: attempt}
	defer func() { r.Seconds = time.Since(began).Round(time.Millisecond).Seconds() }()

	in := workflow.ExecutionInput{Source: migration.AccountRef{Platform: a.Platform, ID: a.AccountID}, RequestedBy: b.requestedBy, BatchKeys: a.BatchKeys}
	arn, err := b.starter.StartExecution(ctx, name, in)
	if err != nil {
		r.Error = "start execution: " + err.Error()
		return r
	}
	r.ExecutionArn = arn

	b.follow(ctx, &r)
	return r
}

// follow polls the execution in r until it settles (see settle) or the
// per-account timeout passes, filling r in.
func (b *bulk) follow(ctx context.Context, r *result) {
	wctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	// Looks share the endpoint with the executions they watch (moto serves
	// both from one process): one at once (a rerun finds most settled), then
	// one every b.poll.
	var lastErr error
	for {
		done, err := b.look(wctx, r)
		if done {
			return
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-wctx.Done():
			switch {
			case ctx.Err() != nil:
				r.Error = "interrupted while waiting for the execution to settle"
			case lastErr != nil:
				r.Error = fmt.Sprintf("not settled within %s: %v", b.timeout, lastErr)
			default:
				r.Error = fmt.Sprintf("not settled within %s (execution %s)", b.timeout, r.ExecutionStatus)
			}
			return
		case <-time.After(b.poll):
		}
	}
}

// releaseStaleClaim frees the account's one-active-migration claim held by
// id when that claim is provably dead: the execution named id has ended (so
// its first step, which claims and then creates the migration, will never
// finish), and no migration id exists (the domain's use case checks that,
// releases the claim only while id still holds it, and leaves its audit event).
func (b *bulk) releaseStaleClaim(ctx context.Context, src migration.AccountRef, id string) (bool, error) {
	out, err := b.env.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionArnFor(b.starter.StateMachineArn, id))})
	var missing *sfntypes.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return false, nil // claimed by the HTTP path, or in the middle of it: leave it
	} else if err != nil {
		return false, err
	}
	if out.Status == sfntypes.ExecutionStatusRunning {
		return false, nil
	}
	released, err := migration.ReleaseDeadClaim{Store: b.env.store}.Handle(ctx, src, id, b.requestedBy,
		fmt.Sprintf("execution %s ended %s before creating its migration", id, out.Status))
	if migration.IsCode(err, migration.CodeWrongStep) {
		return false, nil // its migration exists: the claim is alive
	}
	return released, err
}

// look reads the execution, and while it runs the migration it drives, once.
func (b *bulk) look(ctx context.Context, r *result) (settled bool, err error) {
	out, err := b.env.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(r.ExecutionArn)})
	if err != nil {
		return false, err
	}
	r.ExecutionStatus = string(out.Status)
	switch out.Status {
	case sfntypes.ExecutionStatusSucceeded:
		var o struct {
			MigrationID       string         `json:"migrationId"`
			State             string         `json:"state"`
			ActiveMigrationID string         `json:"activeMigrationId"`
			Batches           []batchOutcome `json:"batches"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &o); err != nil {
			r.Error = "execution output: " + err.Error()
			return true, nil
		}
		r.State, r.Batches, r.ActiveMigrationID = o.State, o.Batches, o.ActiveMigrationID
		if o.MigrationID != "" {
			r.MigrationID = o.MigrationID
		}
		if o.ActiveMigrationID != "" {
			// Another migration of the account was active: report that one.
			_, bs, err := b.migration(ctx, o.ActiveMigrationID)
			switch {
			case err == nil:
				r.Batches = outcomes(bs)
			case migration.IsCode(err, migration.CodeNotFound):
				r.State = stateFailed
				r.Error = fmt.Sprintf("the account is claimed by migration %s, which does not exist (its first step failed after claiming the account)", o.ActiveMigrationID)
				src := migration.AccountRef{Platform: r.Platform, ID: r.AccountID}
				if released, err := b.releaseStaleClaim(ctx, src, o.ActiveMigrationID); err != nil {
					r.Error += "; releasing it: " + err.Error()
				} else if released {
					r.staleClaimReleased = true
					r.Error += "; its execution has ended, so the claim was released"
				}
			default:
				return false, err
			}
		}
		return true, nil
	case sfntypes.ExecutionStatusRunning:
		// Batches only: a migration that has some is eligible (one that is
		// not ends its execution at once, which the next look sees).
		bs, err := b.env.store.Batches(ctx, r.MigrationID)
		if err != nil || len(bs) == 0 {
			return false, err // not begun yet
		}
		r.State = string(migration.DeriveMigrationState(true, batchStates(bs)))
		r.Batches = outcomes(bs)
		return waitingOnDeveloper(bs), nil
	default: // FAILED, TIMED_OUT, ABORTED
		r.State = stateFailed
		r.Error = executionError(aws.ToString(out.Error), aws.ToString(out.Cause), string(out.Status))
		if _, bs, err := b.migration(ctx, r.MigrationID); err == nil {
			r.Batches = outcomes(bs)
		}
		return true, nil
	}
}

func (b *bulk) migration(ctx context.Context, id string) (migration.Migration, []migration.Batch, error) {
	m, err := b.env.store.Migration(ctx, id)
	if err != nil {
		return m, nil, err
	}
	bs, err := b.env.store.Batches(ctx, id)
	return m, bs, err
}

// waitingOnDeveloper: every open batch waits on the developer, and the
// workflow has parked its wait (so it has really got there), with at least
// one batch open (otherwise the execution is about to end: wait for that).
func waitingOnDeveloper(bs []migration.Batch) bool {
	open := 0
	for _, b := range bs {
		switch {
		case b.State.Final():
		case b.State.WaitingOnDeveloper() && b.Tokens[stepOf(b.State)] != "":
			open++
		default:
			return false
		}
	}
	return open > 0
}

func stepOf(s migration.BatchState) migration.Step {
	switch s {
	case migration.AwaitingAgreement:
		return migration.StepAgreement
	case migration.AwaitingTarget:
		return migration.StepTarget
	}
	return migration.StepConfirmation
}

func batchStates(bs []migration.Batch) []migration.BatchState {
	out := make([]migration.BatchState, len(bs))
	for i, b := range bs {
		out[i] = b.State
	}
	return out
}

func outcomes(bs []migration.Batch) []batchOutcome {
	out := make([]batchOutcome, 0, len(bs))
	for _, b := range bs {
		out = append(out, batchOutcome{BatchID: b.BatchID, BatchKey: b.BatchKey, State: string(b.State)})
	}
	return out
}

// executionError is "<error>: <message>", the message taken from the
// Lambda's {"errorMessage",...} cause when it is one.
func executionError(errName, cause, status string) string {
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		cause = lambdaErr.ErrorMessage
	}
	if errName == "" {
		errName = status
	}
	if cause == "" {
		return errName
	}
	return errName + ": " + cause
}

// executionArnFor is the ARN Step Functions gives the execution named name:
// arn:...:stateMachine:<machine> becomes arn:...:execution:<machine>:<name>.
func executionArnFor(stateMachineArn, name string) string {
	return strings.Replace(stateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + name
}
