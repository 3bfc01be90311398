package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// forAccount starts a command about one account: it registers --account on
// fs beside the command's own flags, parses args and builds the AWS wiring.
func (c *cli) forAccount(ctx context.Context, fs *flag.FlagSet, args []string) (migration.AccountRef, *awsEnv, error) {
	acct := fs.String("account", "", "the old-platform account, <platform>:<accountId>")
	if err := parse(fs, args); err != nil {
		return migration.AccountRef{}, nil, err
	}
	ref, err := accountFlag(*acct)
	if err != nil {
		return ref, nil, err
	}
	env, err := c.env(ctx)
	return ref, env, err
}

// accountFlag parses --account platform:id.
func accountFlag(v string) (migration.AccountRef, error) {
	ref, ok := migration.ParseAccountRef(v)
	if !ok {
		return ref, fmt.Errorf("--account must be <platform>:<accountId>, got %q", v)
	}
	return ref, nil
}

// batchView is a batch as ops see it.
type batchView struct {
	BatchID         string                `json:"batchId"`
	BatchKey        string                `json:"batchKey"`
	State           migration.BatchState  `json:"state"`
	Since           string                `json:"since"`
	Waiting         string                `json:"waiting,omitempty"`
	NextAction      string                `json:"nextAction"`
	TargetAccountID string                `json:"targetAccountId,omitempty"`
	Moved           int                   `json:"moved"`
	Total           int                   `json:"total"`
	CommitDeadline  string                `json:"commitDeadline,omitempty"`
	Error           *migration.BatchError `json:"error,omitempty"`
}

type migrationView struct {
	Account         string                   `json:"account"`
	MigrationID     string                   `json:"migrationId"`
	State           migration.MigrationState `json:"state"`
	RequestedBy     string                   `json:"requestedBy"`
	CreatedAt       string                   `json:"createdAt"`
	ExecutionArn    string                   `json:"executionArn,omitempty"`
	ExecutionStatus string                   `json:"executionStatus,omitempty"`
	Batches         []batchView              `json:"batches"`
	Earlier         []string                 `json:"earlierMigrations,omitempty"`
}

func runShow(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("show")
	c.jsonFlag(fs)
	ref, env, err := c.forAccount(ctx, fs, args)
	if err != nil {
		return exitError, err
	}
	all, err := env.store.Migrations(ctx, ref)
	if err != nil {
		return exitError, err
	}
	if len(all) == 0 {
		fmt.Fprintf(c.stdout, "account %s has no migration\n", ref)
		return exitFindings, nil
	}
	m := all[0]
	bs, err := env.store.Batches(ctx, m.MigrationID)
	if err != nil {
		return exitError, err
	}
	v := migrationView{Account: ref.String(), MigrationID: m.MigrationID, State: migration.DeriveMigrationState(m.Eligible, batchStates(bs)),
		RequestedBy: m.RequestedBy, CreatedAt: m.CreatedAt, ExecutionArn: m.ExecutionArn, Batches: []batchView{}}
	if m.ExecutionArn != "" {
		v.ExecutionStatus = executionStatus(ctx, env, m.ExecutionArn)
	}
	now := time.Now().UTC()
	for _, b := range bs {
		v.Batches = append(v.Batches, viewBatch(b, v.ExecutionStatus, now))
	}
	for _, e := range all[1:] {
		v.Earlier = append(v.Earlier, e.MigrationID+" ("+e.CreatedAt+")")
	}
	if c.g.output == outputJSON {
		return exitOK, writeJSON(c.stdout, v)
	}
	fmt.Fprintf(c.stdout, "account     %s\nmigration   %s  %s  requested by %s at %s\n", v.Account, v.MigrationID, v.State, v.RequestedBy, v.CreatedAt)
	if v.ExecutionArn != "" {
		fmt.Fprintf(c.stdout, "execution   %s  %s\n", v.ExecutionArn, v.ExecutionStatus)
	}
	if len(v.Earlier) > 0 {
		fmt.Fprintf(c.stdout, "earlier     %s\n", strings.Join(v.Earlier, ", "))
	}
	fmt.Fprintln(c.stdout)
	return exitOK, writeBatches(c.stdout, v.Batches)
}

func writeBatches(w io.Writer, bs []batchView) error {
	tw := newTable(w, "BATCH\tKEY\tSTATE\tSINCE\tWAITING\tPROGRESS\tTARGET\tNEXT ACTION")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", b.BatchID, b.BatchKey, b.State, b.Since, dash(b.Waiting),
			b.Moved, b.Total, dash(b.TargetAccountID), b.NextAction)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func viewBatch(b migration.Batch, execStatus string, now time.Time) batchView {
	v := batchView{BatchID: b.BatchID, BatchKey: b.BatchKey, State: b.State, Since: b.UpdatedAt, TargetAccountID: b.TargetAccountID,
		Moved: b.Moved, Total: b.Total, CommitDeadline: b.CommitDeadline, Error: b.Error, NextAction: nextAction(b, execStatus, now)}
	if b.State.WaitingOnDeveloper() {
		if at, err := time.Parse(time.RFC3339Nano, b.UpdatedAt); err == nil {
			v.Waiting = age(now.Sub(at))
		}
	}
	return v
}

// nextAction says who acts next on a batch, and how.
func nextAction(b migration.Batch, execStatus string, now time.Time) string {
	stopped := execStatus == "FAILED" || execStatus == "TIMED_OUT" || execStatus == "ABORTED"
	switch {
	case b.State.WaitingOnDeveloper() && stopped:
		return "ops: the workflow stopped; opsctl redrive --execution-arn <arn>, or opsctl resume --migration-id " + b.MigrationID + " --close-waiting"
	case b.State.WaitingOnDeveloper():
		return "developer: " + migration.NextAction(b.State)
	case b.State == migration.Committing && b.Error != nil && b.Error.Code == migration.CodeMoveStalled:
		return "ops: moving stopped (" + string(b.Error.Code) + "); fix the cause, then opsctl resume --migration-id " + b.MigrationID
	case b.State == migration.Committing && (stopped || reconcile.CommitOverdue(b, now)):
		return "ops: moving stopped; opsctl resume --migration-id " + b.MigrationID
	case b.State == migration.Committing:
		return "none: moving (deadline " + b.CommitDeadline + ")"
	case b.State == migration.Committed:
		return "none: committed to " + b.TargetHolder()
	case b.Error != nil:
		return "developer or ops: start again (" + string(b.Error.Code) + ")"
	}
	return migration.NextAction(b.State)
}

// age is a duration the way people read waiting times: 3d4h, 5h12m, 40s.
func age(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", max(int(d.Seconds()), 0))
}

// executionStatus is the execution's status, or why it is unknown.
func executionStatus(ctx context.Context, env *awsEnv, arn string) string {
	out, err := env.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return "UNKNOWN (" + firstLine(err.Error()) + ")"
	}
	return string(out.Status)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeJSONLines writes each row as one line of JSON.
func writeJSONLines[T any](w io.Writer, rows []T) error {
	for _, r := range rows {
		if err := writeJSONLine(w, r); err != nil {
			return err
		}
	}
	return nil
}

// newTable is a table of aligned columns under header (columns split by tabs).
func newTable(w io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}
