package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/bench/costmodel"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// env is where the bench runs: the project, its build and the logs.
type env struct {
	projectDir string
	logs       io.Writer
	poolSize   int
	historyDir string // where execution histories are kept for reading
	lambdas    templateLambdas
}

// localStack is one running local stack with clients on its AWS endpoint.
type localStack struct {
	*stack.Stack
	db  *dynamodb.Client
	sf  *sfn.Client
	rec recorder
}

func (e env) start(ctx context.Context, seed []byte, pool int) (*localStack, error) {
	if pool == 0 {
		pool = e.poolSize
	}
	s, err := stacktest.StartStack(ctx, stack.Options{ProjectDir: e.projectDir, Seed: seed, Logs: e.logs, PoolSize: pool},
		func(format string, args ...any) { slog.Info(fmt.Sprintf(format, args...)) })
	if err != nil {
		return nil, err
	}
	cfg := stacktest.AWSConfig(s)
	return &localStack{Stack: s, db: dynamodb.NewFromConfig(cfg), sf: sfn.NewFromConfig(cfg),
		rec: recorder{endpoint: s.AWSEndpoint, client: &http.Client{Timeout: time.Minute}}}, nil
}

// commitRun is one whole ops migration of a workload, measured.
type commitRun struct {
	W         workload
	TableSize int // records in the table when the execution started
	// Wall is StartExecution to the end of the execution (as seen by polling).
	Wall time.Duration
	// Commit is from the first COMMIT_STARTED audit event (the point of no
	// return) to the last BATCH_COMMITTED one: the move itself, with the
	// workflow's own steps in between (the Move task, its Lambda invocations).
	Commit     time.Duration
	CommitFrom time.Time // the first COMMIT_STARTED
	CommitTo   time.Time // the last BATCH_COMMITTED
	CommitCPU  stackCPU  // the stack's CPU over the same span
	Batches    int       // committed
	Failed     int       // ended FAILED (each with its audit event)
	Moved      int
	History    historyStats
	Writes     writeStats
	// Lambdas are the execution's invocations with their measured durations
	// (the emulators' REPORT lines) and the template's memory sizes.
	Lambdas []costmodel.Invocation
	// The store's best case for the same items in the same table, right
	// before and right after the migration (storeBestCase).
	BaselineBefore, BaselineAfter       time.Duration
	BaselineCPUBefore, BaselineCPUAfter stackCPU
}

// BaselineCPU is the mean CPU of the runs of the store's best case.
func (r commitRun) BaselineCPU() time.Duration {
	if r.BaselineBefore == 0 {
		return r.BaselineCPUAfter.total()
	}
	return (r.BaselineCPUBefore.total() + r.BaselineCPUAfter.total()) / 2
}

// ratio is the commit's throughput over the store's best case, by wall
// time and by CPU time.
func (r commitRun) ratio() (wall, cpu float64) {
	return r.Baseline().Seconds() / r.Commit.Seconds(), r.BaselineCPU().Seconds() / r.CommitCPU.total().Seconds()
}

// Baseline is the mean of the runs of the store's best case (only the
// throughput sizes run it before the migration too).
func (r commitRun) Baseline() time.Duration {
	if r.BaselineBefore == 0 {
		return r.BaselineAfter
	}
	return (r.BaselineBefore + r.BaselineAfter) / 2
}

func (r commitRun) rate() float64     { return float64(r.Moved) / r.Commit.Seconds() }
func (r commitRun) baseRate() float64 { return float64(r.Moved) / r.Baseline().Seconds() }

// runMigration starts the ops execution of w on a fresh stack (pool
// emulators per function; 0 = the default), waits for it, and reads its
// history, its audit trail and (with record) the DynamoDB writes it made.
// With baseline, the store's best case runs on the same table afterwards,
// and before as well for the throughput sizes.
func (e env) runMigration(ctx context.Context, w workload, record, baseline bool, pool int) (commitRun, error) {
	r := commitRun{W: w}
	began := time.Now()
	reports := &reportCollector{}
	e.logs = io.MultiWriter(e.logs, reports)
	s, err := e.start(ctx, w.Snapshot, pool)
	if err != nil {
		return r, err
	}
	defer s.Close()
	slog.Info("stack up", "assets", w.Assets, "subjects", w.Subjects, "took", time.Since(began).Round(time.Millisecond))

	if r.TableSize, err = countTable(ctx, s.db, s.TableName); err != nil {
		return r, err
	}
	sampler := startCPUSampler(100 * time.Millisecond)
	defer sampler.Stop()
	if baseline && throughputSizes[w.Assets] {
		if r.BaselineBefore, r.BaselineCPUBefore, err = s.bestCase(ctx, sampler, w); err != nil {
			return r, err
		}
	}
	var image *tableImage
	if record {
		if image, err = s.startRecording(ctx); err != nil {
			return r, err
		}
	}
	reports.take() // only this execution's invocations count
	arn, wall, err := s.execute(ctx, w)
	r.Wall = wall
	if err != nil {
		return r, err
	}
	if record {
		if r.Writes, err = s.recordedWrites(ctx, image); err != nil {
			return r, err
		}
	}
	if err := e.readHistory(ctx, s, arn, reports, &r); err != nil {
		return r, err
	}
	if err := s.readCommit(ctx, sampler, &r, baseline); err != nil {
		return r, err
	}
	if baseline {
		if r.BaselineAfter, r.BaselineCPUAfter, err = s.bestCase(ctx, sampler, w); err != nil {
			return r, err
		}
		slog.Info("baseline done", "assets", w.Assets, "before", r.BaselineBefore.Round(time.Millisecond),
			"after", r.BaselineAfter.Round(time.Millisecond), "rate", fmt.Sprintf("%.0f/s", r.baseRate()))
	}
	return r, nil
}

// bestCase runs the store's best case for w's items from wherever they are
// now, with the stack's CPU over it.
func (s *localStack) bestCase(ctx context.Context, sampler *cpuSampler, w workload) (time.Duration, stackCPU, error) {
	holder, err := holderOf(ctx, s.db, s.TableName, w.ItemKeys[0])
	if err != nil {
		return 0, stackCPU{}, err
	}
	c0 := sampler.procs.read()
	took, err := storeBestCase(ctx, s.db, s.TableName, w.ItemKeys, holder)
	if err != nil {
		return 0, stackCPU{}, fmt.Errorf("baseline: %w", err)
	}
	return took, sampler.procs.read().sub(c0), nil
}

// startRecording takes the table's image (to size reads against) and starts
// moto's request recorder.
func (s *localStack) startRecording(ctx context.Context) (*tableImage, error) {
	image, err := scanImage(ctx, s.db, s.TableName)
	if err != nil {
		return nil, err
	}
	return image, s.rec.start(ctx)
}

// recordedWrites stops the recorder and counts what it recorded.
func (s *localStack) recordedWrites(ctx context.Context, image *tableImage) (writeStats, error) {
	rec, err := s.rec.stop(ctx)
	if err != nil {
		return writeStats{}, err
	}
	return countWrites(rec, image)
}

// execute starts w's ops execution and waits for it to succeed; wall is
// StartExecution to the end as polling sees it.
func (s *localStack) execute(ctx context.Context, w workload) (arn string, wall time.Duration, err error) {
	input, err := w.opsInput()
	if err != nil {
		return "", 0, err
	}
	name := fmt.Sprintf("bench-%d-%d-%d", w.Assets, w.Subjects, time.Now().UnixNano())
	t0 := time.Now()
	out, err := s.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN), Name: aws.String(name), Input: aws.String(string(input))})
	if err != nil {
		return "", 0, fmt.Errorf("start execution: %w", err)
	}
	arn = aws.ToString(out.ExecutionArn)
	desc, err := waitExecution(ctx, s.sf, arn)
	wall = time.Since(t0)
	if err != nil {
		return arn, wall, err
	}
	if desc.Status != sfntypes.ExecutionStatusSucceeded {
		return arn, wall, fmt.Errorf("execution %s ended %s: %s %s", name, desc.Status, aws.ToString(desc.Error), aws.ToString(desc.Cause))
	}
	return arn, wall, nil
}

// readHistory reads the execution's history into r, with the Lambda
// invocations the emulators reported, and keeps a copy in e.historyDir.
func (e env) readHistory(ctx context.Context, s *localStack, arn string, reports *reportCollector, r *commitRun) error {
	events, err := fetchHistory(ctx, s.sf, arn)
	if err != nil {
		return err
	}
	r.History = analyzeHistory(events)
	r.Lambdas = e.lambdas.invocations(reports.take())
	if e.historyDir != "" {
		if b, err := json.MarshalIndent(events, "", " "); err == nil {
			_ = os.WriteFile(filepath.Join(e.historyDir, fmt.Sprintf("history-%dx%d.json", r.W.Assets, r.W.Subjects)), b, 0o644)
		}
	}
	return nil
}

// readCommit reads the commit's span and counts from the audit trail into r,
// with the stack's CPU over the span. With strict (a throughput run) every
// asset must have moved.
func (s *localStack) readCommit(ctx context.Context, sampler *cpuSampler, r *commitRun, strict bool) error {
	store := dynamostore.New(s.db, s.TableName).WithAuditTable(s.AuditTableName)
	if err := r.readAudit(ctx, store, r.W.Source); err != nil {
		return err
	}
	r.CommitCPU = sampler.between(r.CommitFrom, r.CommitTo)
	if r.Moved != r.W.Assets || r.Failed > 0 {
		// A batch that failed is no throughput figure; for the cost and
		// payload figures of many batches it is reported, not fatal.
		if strict {
			return fmt.Errorf("%d assets moved, %d expected (%d batches failed)", r.Moved, r.W.Assets, r.Failed)
		}
		slog.Warn("not every batch committed", "assets", r.W.Assets, "moved", r.Moved, "failed", r.Failed)
	}
	slog.Info("migration done", "assets", r.W.Assets, "subjects", r.W.Subjects, "wall", r.Wall.Round(time.Millisecond),
		"commit", r.Commit.Round(time.Millisecond), "rate", fmt.Sprintf("%.0f/s", r.rate()),
		"motoCPU", r.CommitCPU.Moto.Round(10*time.Millisecond), "restCPU", r.CommitCPU.Rest.Round(10*time.Millisecond))
	return nil
}

// readAudit takes the commit's span and the moved count from the audit
// trail: COMMIT_STARTED is written in the point-of-no-return transaction,
// BATCH_COMMITTED in the transition that ends the move.
func (r *commitRun) readAudit(ctx context.Context, store *dynamostore.Store, src migration.AccountRef) error {
	var first, last time.Time
	cursor := ""
	for {
		evs, next, err := store.AuditTrail(ctx, src, cursor, 1000)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			at, err := time.Parse(time.RFC3339Nano, ev.At)
			if err != nil {
				return fmt.Errorf("audit time %q: %w", ev.At, err)
			}
			switch ev.Event {
			case migration.EventCommitStarted:
				if first.IsZero() || at.Before(first) {
					first = at
				}
			case migration.EventBatchFailed:
				r.Failed++
			case migration.EventBatchCommitted:
				r.Batches++
				if at.After(last) {
					last = at
				}
				if n, ok := ev.Detail["total"].(float64); ok {
					r.Moved += int(n)
				}
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if first.IsZero() || last.IsZero() {
		return fmt.Errorf("audit trail has no COMMIT_STARTED / BATCH_COMMITTED")
	}
	r.Commit, r.CommitFrom, r.CommitTo = last.Sub(first), first, last
	return nil
}

// waitExecution polls until the execution ends.
func waitExecution(ctx context.Context, sf *sfn.Client, arn string) (*sfn.DescribeExecutionOutput, error) {
	for {
		d, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return nil, err
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// countTable counts the table's records.
func countTable(ctx context.Context, db *dynamodb.Client, table string) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), Select: "COUNT"})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += int(page.Count)
	}
	return n, nil
}

// openLogs is where the stacks' logs go: a file, so a failed run can be read
// afterwards without flooding the bench's own output.
func openLogs(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dir, "stack.log"))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
