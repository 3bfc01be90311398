package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/stepfunctions"
)

// Why resuming needs care: a second execution for the same account is no
// resume. Its first step refuses a second migration while the first is active
// and ends at once naming it (docs/CONTRACT.md §3), so the stopped migration's
// batches would stay where they are. What is safe to repeat is the domain's
// Move (each item moves only from its source, once) and closing batches that
// never passed the point of no return; `resume` does exactly those.

func runRedrive(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("redrive")
	execArn := fs.String("execution-arn", "", "the FAILED, TIMED_OUT or ABORTED execution")
	closeWaiting := fs.Bool("close-waiting", false, "in the fallback, also end batches still waiting on the developer as FAILED (they moved nothing)")
	timeout := fs.Duration("timeout", 2*time.Minute, "in the fallback that starts afresh, how long to follow the new execution")
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if *execArn == "" {
		return exitError, errors.New("--execution-arn is required")
	}
	env, err := c.env(ctx)
	if err != nil {
		return exitError, err
	}
	desc, err := env.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: execArn})
	if err != nil {
		return exitError, fmt.Errorf("describe execution: %w", err)
	}
	switch desc.Status {
	case sfntypes.ExecutionStatusFailed, sfntypes.ExecutionStatusTimedOut, sfntypes.ExecutionStatusAborted:
	default:
		return exitError, fmt.Errorf("execution is %s: only a FAILED, TIMED_OUT or ABORTED execution can be redriven", desc.Status)
	}
	fmt.Fprintf(c.stdout, "execution %s is %s: %s\n", *execArn, desc.Status, executionError(aws.ToString(desc.Error), aws.ToString(desc.Cause), string(desc.Status)))

	// One attempt: an endpoint without the action answers the same every time.
	_, err = env.sf.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: execArn}, func(o *sfn.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		fmt.Fprintln(c.stdout, "redriven: the execution resumes from the step that failed. Moving is safe to repeat (each item moves only from its source); follow it with: opsctl show --account <platform>:<accountId>")
		return exitOK, nil
	}
	why, fallback := redriveUnavailable(err)
	if !fallback {
		return exitError, fmt.Errorf("redrive: %w", err)
	}
	fmt.Fprintf(c.stdout, "RedriveExecution is not possible here (%s); falling back.\n", why)

	name := aws.ToString(desc.Name)
	if _, err := env.store.Migration(ctx, name); migration.IsCode(err, migration.CodeNotFound) {
		return restartExecution(ctx, c, env, desc, *timeout)
	} else if err != nil {
		return exitError, err
	}
	fmt.Fprintf(c.stdout, "A new execution would not resume migration %s: it would end at once naming it as the account's active migration.\n"+
		"Resuming the migration through the domain instead (moves are safe to repeat):\n", name)
	return resume(ctx, c, env, name, *closeWaiting)
}

// redriveUnavailable tells an endpoint without RedriveExecution, or an
// execution that can no longer be redriven, from a real failure (no
// permission, throttling, ...). moto 5.2 answers the action with HTTP 500 and
// an HTML page, which is no AWS error at all; AWS's own faults carry a code.
func redriveUnavailable(err error) (string, bool) {
	var notRedrivable *sfntypes.ExecutionNotRedrivable
	if errors.As(err, &notRedrivable) {
		return "ExecutionNotRedrivable: " + aws.ToString(notRedrivable.Message), true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "UnknownOperationException", "InvalidAction", "NotImplemented", "UnsupportedOperation":
			return api.ErrorCode(), true
		}
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		var notAWS *smithy.DeserializationError
		switch code := resp.HTTPStatusCode(); {
		case code == 404 || code == 501:
			return "the endpoint answered HTTP " + strconv.Itoa(code), true
		case code >= 500 && errors.As(err, &notAWS):
			return "the endpoint answered HTTP " + strconv.Itoa(code) + " without an AWS error: it does not implement RedriveExecution", true
		}
	}
	if strings.Contains(err.Error(), "not yet implemented") || strings.Contains(err.Error(), "not implemented") {
		return "not implemented by the endpoint", true
	}
	return "", false
}

// restartExecution starts the input of an execution that stopped before its
// migration began afresh under a new name: nothing was changed, so this is a
// clean start, not a second one.
func restartExecution(ctx context.Context, c *cli, env *awsEnv, desc *sfn.DescribeExecutionOutput, timeout time.Duration) (int, error) {
	old := aws.ToString(desc.Name)
	var in struct {
		Source    migration.AccountRef `json:"source"`
		BatchKeys []string             `json:"batchKeys"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(desc.Input)), &in); err == nil && in.Source.Platform != "" {
		// A claim on the account left by this execution (claimed, then failed
		// before creating its migration) would make the new one end at once.
		// It is released only if it is this execution's.
		why := fmt.Sprintf("execution %s ended %s before creating its migration; opsctl redrive starts it afresh", old, desc.Status)
		if _, err := (migration.ReleaseDeadClaim{Store: env.store}).Handle(ctx, in.Source, old, "ops:opsctl redrive", why); err != nil {
			return exitError, err
		}
	}
	name := nextAttemptName(old)
	starter := &stepfunctions.Client{API: env.sf, StateMachineArn: aws.ToString(desc.StateMachineArn)}
	arn, err := starter.StartExecution(ctx, name, json.RawMessage(aws.ToString(desc.Input)))
	if err != nil {
		return exitError, fmt.Errorf("start %s: %w", name, err)
	}
	fmt.Fprintf(c.stdout, "The execution stopped before its migration began, so nothing changed: started it afresh with the same input as %s\n  %s\n", name, arn)
	b := &bulk{env: env, starter: starter, timeout: timeout, poll: time.Second}
	r := result{Platform: in.Source.Platform, AccountID: in.Source.ID, BatchKeys: in.BatchKeys, MigrationID: name, ExecutionArn: arn}
	b.follow(ctx, &r)
	fmt.Fprintf(c.stdout, "%s: execution %s, migration %s %s", name, r.ExecutionStatus, r.MigrationID, stateLabel(r))
	for _, bo := range r.Batches {
		fmt.Fprintf(c.stdout, ", %s %s", bo.BatchKey, bo.State)
	}
	fmt.Fprintln(c.stdout)
	if r.failed() {
		fmt.Fprintf(c.stdout, "it did not get through either: %s\n", r.Error)
		return exitFindings, nil
	}
	return exitOK, nil
}

// nextAttemptName is name with its -rN suffix counted up (-r2 first).
func nextAttemptName(name string) string {
	n := 2
	if i := strings.LastIndex(name, "-r"); i > 0 {
		if k, err := strconv.Atoi(name[i+2:]); err == nil && k >= 2 {
			name, n = name[:i], k+1
		}
	}
	suffix := "-r" + strconv.Itoa(n)
	if len(name)+len(suffix) > 80 {
		name = name[:80-len(suffix)]
	}
	return name + suffix
}

func runResume(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("resume")
	id := fs.String("migration-id", "", "the migration (its execution's name)")
	closeWaiting := fs.Bool("close-waiting", false, "also end batches still waiting on the developer as FAILED (they moved nothing; the developer may start again)")
	dryRun := fs.Bool("dry-run", false, "print what would be done to each batch; write nothing")
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	if *id == "" {
		return exitError, errors.New("--migration-id is required")
	}
	env, err := c.env(ctx)
	if err != nil {
		return exitError, err
	}
	if *dryRun {
		return planResume(ctx, c, env, *id, *closeWaiting)
	}
	return resume(ctx, c, env, *id, *closeWaiting)
}

// migrationToResume reads the migration and its batches for resume (and its
// dry run, whose header line starts with prefix) and says which execution drove it.
func migrationToResume(ctx context.Context, c *cli, env *awsEnv, id, prefix string) ([]migration.Batch, error) {
	m, err := env.store.Migration(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.ExecutionArn != "" {
		fmt.Fprintf(c.stdout, "%smigration %s of %s; execution %s\n", prefix, id, m.Source, executionStatus(ctx, env, m.ExecutionArn))
	}
	return env.store.Batches(ctx, id)
}

// codeWorkflowStopped is the error of a batch ops closed because the workflow
// that waited on it stopped.
const codeWorkflowStopped migration.Code = "WORKFLOW_STOPPED"

// resume finishes what a stopped workflow left: COMMITTING batches are moved
// to the end (Move is safe to repeat, and to run beside a live execution);
// batches waiting on the developer are ended only when asked; once every batch
// has ended the migration is summarised, which frees the account.
func resume(ctx context.Context, c *cli, env *awsEnv, id string, closeWaiting bool) (int, error) {
	bs, err := migrationToResume(ctx, c, env, id, "")
	if err != nil {
		return exitError, err
	}
	if open := resumeBatches(ctx, c.stdout, bs, closeWaiting, resumer{env: env, id: id}); open > 0 {
		fmt.Fprintf(c.stdout, "%d batch(es) still open: the migration stays active\n", open)
		return exitFindings, nil
	}
	sum, err := env.migrator.Summarize(ctx, id)
	if err != nil {
		return exitError, fmt.Errorf("summarize: %w", err)
	}
	fmt.Fprintf(c.stdout, "migration %s is %s; the account is free to start again\n", id, sum.State)
	return exitOK, nil
}

// batchResumer does resume's part for one batch, or says what it would do
// (the dry run): each step returns the batch's line and whether the batch
// stays open.
type batchResumer interface {
	move(ctx context.Context, b migration.Batch) (string, bool)
	close(ctx context.Context, b migration.Batch) (string, bool)
	leave(b migration.Batch) string
}

// resumeBatches takes each batch the way resume does, one line each:
// COMMITTING ones are moved, ones waiting on the developer closed with
// closeWaiting or else left open; it returns how many stay open.
func resumeBatches(ctx context.Context, w io.Writer, bs []migration.Batch, closeWaiting bool, r batchResumer) int {
	open := 0
	for _, b := range bs {
		var line string
		stays := false
		switch {
		case b.State == migration.Committing:
			line, stays = r.move(ctx, b)
		case b.State.WaitingOnDeveloper() && closeWaiting:
			line, stays = r.close(ctx, b)
		case b.State.WaitingOnDeveloper():
			line, stays = r.leave(b), true
		default:
			line = fmt.Sprintf("%s, nothing to do", b.State)
		}
		fmt.Fprintf(w, "  %s %s: %s\n", b.BatchID, b.BatchKey, line)
		if stays {
			open++
		}
	}
	return open
}

// resumer is resume for real, on migration id.
type resumer struct {
	env *awsEnv
	id  string
}

func (r resumer) move(ctx context.Context, b migration.Batch) (string, bool) {
	began := time.Now()
	p, err := r.env.migrator.Move(ctx, r.id, b.BatchID, time.Time{})
	if err != nil {
		return "move failed: " + errText(err), true
	}
	return fmt.Sprintf("moved %d of %d, COMMITTED (%.1fs)", p.Moved, p.Total, time.Since(began).Seconds()), false
}

func (r resumer) close(ctx context.Context, b migration.Batch) (string, bool) {
	if _, err := r.env.migrator.Fail(ctx, r.id, b.BatchID, codeWorkflowStopped, "the workflow that waited on this batch stopped; nothing moved; start the migration again"); err != nil {
		return "could not close: " + errText(err), true
	}
	return fmt.Sprintf("was %s, now FAILED (%s); nothing moved", b.State, codeWorkflowStopped), false
}

func (resumer) leave(b migration.Batch) string {
	return fmt.Sprintf("%s, left as is (add --close-waiting to end it)", b.State)
}

// errText is a coded error's code and message, without the SDK's wording
// behind it; other errors as they are.
func errText(err error) string {
	var ce *migration.Error
	if errors.As(err, &ce) {
		return string(ce.Code) + ": " + ce.Message
	}
	return err.Error()
}
