package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
	"github.com/devplatform/account-migration/shared/waiting"
)

// waitingBatch is one line of `opsctl waiting`.
type waitingBatch struct {
	Account     string               `json:"account"`
	MigrationID string               `json:"migrationId"`
	BatchID     string               `json:"batchId"`
	BatchKey    string               `json:"batchKey"`
	State       migration.BatchState `json:"state"`
	Since       string               `json:"since"`
	Waiting     string               `json:"waiting"`
	NextAction  string               `json:"nextAction"`
}

func runWaiting(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("waiting")
	olderThan := fs.Duration("older-than", 0, "only batches waiting longer than this, e.g. 72h")
	limit := fs.Int("limit", 0, "at most this many (oldest first); 0: all")
	c.jsonFlag(fs)
	env, err := c.parseEnv(ctx, fs, args)
	if err != nil {
		return exitError, err
	}
	now := time.Now().UTC()
	var before time.Time
	if *olderThan > 0 {
		before = now.Add(-*olderThan)
	}
	all, err := waiting.Batches(ctx, env.store, before, *limit)
	if err != nil {
		return exitError, err
	}
	rows := make([]waitingBatch, 0, len(all))
	for _, b := range all {
		rows = append(rows, waitingBatch{Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID, BatchKey: b.BatchKey,
			State: b.State, Since: b.UpdatedAt, Waiting: age(now.Sub(waiting.Since(b))), NextAction: "developer: " + migration.NextAction(b.State)})
	}
	if c.g.output == outputJSON {
		if err := writeJSONLines(c.stdout, rows); err != nil {
			return exitError, err
		}
		return exitOK, nil
	}
	tw := newTable(c.stdout, "SINCE\tWAITING\tSTATE\tACCOUNT\tMIGRATION\tBATCH\tKEY\tNEXT ACTION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Since, r.Waiting, r.State, r.Account, r.MigrationID, r.BatchID, r.BatchKey, r.NextAction)
	}
	if err := tw.Flush(); err != nil {
		return exitError, err
	}
	what := "waiting on developers"
	if *olderThan > 0 {
		what += " for longer than " + olderThan.String()
	}
	fmt.Fprintf(c.stdout, "%d batch(es) %s\n", len(rows), what)
	return exitOK, nil
}

// stuckItem is one line of `opsctl stuck`.
type stuckItem struct {
	Kind         string `json:"kind"` // MOVE_STALLED | COMMIT_OVERDUE | WORKFLOW_GONE | EXECUTION_FAILED | EXECUTION_TIMED_OUT | EXECUTION_ABORTED
	Account      string `json:"account,omitempty"`
	MigrationID  string `json:"migrationId,omitempty"`
	BatchID      string `json:"batchId,omitempty"`
	ExecutionArn string `json:"executionArn,omitempty"`
	Since        string `json:"since,omitempty"`
	Detail       string `json:"detail"`
	Action       string `json:"action"`
	Resolved     bool   `json:"resolved,omitempty"`
}

func runStuck(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("stuck")
	since := fs.Duration("since", 0, "only executions that stopped within this long, e.g. 168h; 0: all Step Functions still lists")
	all := fs.Bool("all", false, "also list failed executions that were dealt with since (a newer migration, or resumed to the end)")
	c.jsonFlag(fs)
	env, err := c.parseEnv(ctx, fs, args)
	if err != nil {
		return exitError, err
	}
	arn, err := env.stateMachine(ctx)
	if err != nil {
		return exitError, err
	}
	now := time.Now().UTC()
	items, err := stuckBatches(ctx, env, now)
	if err != nil {
		return exitError, err
	}
	var stoppedAfter time.Time
	if *since > 0 {
		stoppedAfter = now.Add(-*since)
	}
	stopped, err := stoppedExecutions(ctx, env, arn, stoppedAfter, *all)
	if err != nil {
		return exitError, err
	}
	items = append(items, stopped...)

	open := 0
	for _, it := range items {
		if !it.Resolved {
			open++
		}
	}
	if c.g.output == outputJSON {
		err = writeJSONLines(c.stdout, items)
	} else {
		err = writeStuck(c.stdout, items, open)
	}
	if err != nil {
		return exitError, err
	}
	if open > 0 {
		return exitFindings, nil
	}
	return exitOK, nil
}

// stuckBatches are the COMMITTING batches whose move the workflow gave up
// on, or that are past their commit deadline.
func stuckBatches(ctx context.Context, env *awsEnv, now time.Time) ([]stuckItem, error) {
	committing, err := env.store.BatchesInState(ctx, migration.Committing, time.Time{}, 0)
	if err != nil {
		return nil, err
	}
	var items []stuckItem
	for _, b := range committing {
		if b.Error != nil && b.Error.Code == migration.CodeMoveStalled {
			// The workflow gave up moving it (alarm BatchesStalled); it waits for ops.
			items = append(items, stuckItem{Kind: "MOVE_STALLED", Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID,
				Since: b.UpdatedAt, Detail: fmt.Sprintf("COMMITTING, moved %d of %d: %s", b.Moved, b.Total, b.Error.Message),
				Action: "fix the cause, then opsctl resume --migration-id " + b.MigrationID})
			continue
		}
		if !reconcile.CommitOverdue(b, now) {
			continue
		}
		items = append(items, stuckItem{Kind: "COMMIT_OVERDUE", Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID,
			Since: b.UpdatedAt, Detail: fmt.Sprintf("COMMITTING since %s, deadline %s, moved %d of %d", b.UpdatedAt, dash(b.CommitDeadline), b.Moved, b.Total),
			Action: "opsctl resume --migration-id " + b.MigrationID})
	}
	gone, err := workflowGoneBatches(ctx, env)
	return append(items, gone...), err
}

// workflowGoneBatches are the batches waiting on their developer whose
// workflow has ended (the wait they are parked in, or the migration's
// execution): the API refuses their actions with WORKFLOW_GONE, and only ops
// can end them. One heartbeat per waiting batch with a parked wait.
func workflowGoneBatches(ctx context.Context, env *awsEnv) ([]stuckItem, error) {
	var items []stuckItem
	for _, st := range []migration.BatchState{migration.AwaitingAgreement, migration.AwaitingTarget, migration.AwaitingConfirmation} {
		waiting, err := env.store.BatchesInState(ctx, st, time.Time{}, 0)
		if err != nil {
			return nil, err
		}
		for _, b := range waiting {
			gone, err := env.migrator.WorkflowGone(ctx, b)
			if err != nil {
				return nil, fmt.Errorf("batch %s of %s: %w", b.BatchID, b.MigrationID, err)
			}
			if !gone {
				continue
			}
			it := stuckItem{Kind: "WORKFLOW_GONE", Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID, Since: b.UpdatedAt,
				Action: "opsctl resume --migration-id " + b.MigrationID + " --close-waiting (ends its waiting batches FAILED, nothing moved; the developer starts again)"}
			status := "no execution"
			if m, err := env.store.Migration(ctx, b.MigrationID); err == nil && m.ExecutionArn != "" {
				status = executionStatus(ctx, env, m.ExecutionArn)
			}
			it.Detail = fmt.Sprintf("%s, but the wait for its developer has ended (execution %s): its actions are refused with WORKFLOW_GONE", b.State, status)
			if status == string(sfntypes.ExecutionStatusRunning) {
				// Only this batch's branch ended: closing every waiting
				// batch now would end siblings whose waits still run.
				it.Action = "when execution " + status + " ends (its other batches finish or expire): " + it.Action
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// stoppedExecutions are the state machine's FAILED, TIMED_OUT and ABORTED
// executions (those that stopped after stoppedAfter, unless it is zero),
// judged; with all, also those dealt with since.
func stoppedExecutions(ctx context.Context, env *awsEnv, arn string, stoppedAfter time.Time, all bool) ([]stuckItem, error) {
	var items []stuckItem
	for _, status := range []sfntypes.ExecutionStatus{sfntypes.ExecutionStatusFailed, sfntypes.ExecutionStatusTimedOut, sfntypes.ExecutionStatusAborted} {
		p := sfn.NewListExecutionsPaginator(env.sf, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: status})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list %s executions: %w", status, err)
			}
			for _, ex := range page.Executions {
				if !stoppedAfter.IsZero() && ex.StopDate != nil && ex.StopDate.Before(stoppedAfter) {
					continue
				}
				it, err := judgeStoppedExecution(ctx, env, ex)
				if err != nil {
					return nil, err
				}
				if it.Resolved && !all {
					continue
				}
				items = append(items, it)
			}
		}
	}
	return items, nil
}

// writeStuck is `opsctl stuck` as a table, with the count of open items.
func writeStuck(w io.Writer, items []stuckItem, open int) error {
	tw := newTable(w, "KIND\tACCOUNT\tMIGRATION\tSINCE\tDETAIL\tACTION")
	for _, it := range items {
		kind := it.Kind
		if it.Resolved {
			kind += " (resolved)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", kind, dash(it.Account), dash(it.MigrationID), dash(it.Since), it.Detail, it.Action)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d stuck\n", open)
	return nil
}

// judgeStoppedExecution says what a failed, timed-out or aborted execution
// left behind and what ops should do about it. The execution's name is its
// migration id.
func judgeStoppedExecution(ctx context.Context, env *awsEnv, ex sfntypes.ExecutionListItem) (stuckItem, error) {
	it := stuckItem{Kind: "EXECUTION_" + string(ex.Status), ExecutionArn: aws.ToString(ex.ExecutionArn), MigrationID: aws.ToString(ex.Name)}
	if ex.StopDate != nil {
		it.Since = ex.StopDate.UTC().Format(time.RFC3339)
	}
	desc, err := env.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	if err != nil {
		return it, fmt.Errorf("describe %s: %w", it.ExecutionArn, err)
	}
	cause := executionError(aws.ToString(desc.Error), aws.ToString(desc.Cause), string(ex.Status))
	var in struct {
		Source migration.AccountRef `json:"source"`
	}
	_ = json.Unmarshal([]byte(aws.ToString(desc.Input)), &in)
	if in.Source.Platform != "" {
		it.Account = in.Source.String()
	}

	m, err := env.store.Migration(ctx, it.MigrationID)
	if migration.IsCode(err, migration.CodeNotFound) {
		it.Detail = cause + "; it stopped before its migration began: nothing changed"
		it.Action = "fix the cause, then opsctl redrive --execution-arn " + it.ExecutionArn + " (starts it afresh) or bulk-start --retry-from <results>"
		if it.Account != "" && ex.StopDate != nil {
			if latest, err := env.store.LatestMigration(ctx, in.Source); err == nil {
				if at, err := time.Parse(time.RFC3339Nano, latest.CreatedAt); err == nil && at.After(*ex.StopDate) {
					it.Resolved = true
					it.Action = "none: the account has a newer migration " + latest.MigrationID
				}
			}
		}
		return it, nil
	} else if err != nil {
		return it, err
	}
	it.Account = m.Source.String()
	bs, err := env.store.Batches(ctx, m.MigrationID)
	if err != nil {
		return it, err
	}
	n := map[string]int{}
	committing, waiting := 0, 0
	for _, b := range bs {
		n[string(b.State)]++
		switch {
		case b.State == migration.Committing:
			committing++
		case b.State.WaitingOnDeveloper():
			waiting++
		}
	}
	it.Detail = fmt.Sprintf("%s; batches: %s", cause, countList(n))
	switch {
	case committing > 0:
		it.Action = "opsctl redrive --execution-arn " + it.ExecutionArn + " (finishes the move; safe to repeat)"
	case waiting > 0:
		it.Action = "opsctl redrive --execution-arn " + it.ExecutionArn + ", or opsctl resume --migration-id " + m.MigrationID + " --close-waiting"
	case !m.Summarized:
		it.Action = "opsctl resume --migration-id " + m.MigrationID + " (records the end, frees the account)"
	default:
		it.Resolved = true
		it.Action = "none: every batch ended and the migration was closed"
	}
	return it, nil
}

func countList(n map[string]int) string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", n[k], k)
	}
	if out == "" {
		return "none"
	}
	return out
}
