package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/shared/migration"
)

func dryRunTag(on bool) string {
	if on {
		return "dry run: "
	}
	return ""
}

// planBulk is bulk-start --dry-run: per account, the execution it would start
// or find again by name, and what the account already has; it only reads.
func planBulk(ctx context.Context, c *cli, env *awsEnv, w *cohortWork, resultsPath string) (int, error) {
	arn, err := env.stateMachine(ctx)
	if err != nil {
		return exitError, err
	}
	starts, follows := 0, 0
	for _, i := range w.todo {
		a, name := w.results[i].account(), w.names[i]
		what, started, err := plannedExecution(ctx, env, executionArnFor(arn, name))
		if err != nil {
			return exitError, fmt.Errorf("%s: %w", a.ref(), err)
		}
		if started {
			follows++
		} else {
			starts++
		}
		if latest := latestMigration(ctx, env, migration.AccountRef{Platform: a.Platform, ID: a.AccountID}); latest != "" {
			what += "; " + latest
		}
		fmt.Fprintf(c.stdout, "dry run: %s: %s\n", a.ref(), what)
	}
	fmt.Fprintf(c.stdout, "dry run: %d execution(s) would start, %d would be followed; results would go to %s; nothing was started or written\n",
		starts, follows, resultsPath)
	return exitOK, nil
}

// plannedExecution says whether the execution named by arn exists already.
func plannedExecution(ctx context.Context, env *awsEnv, arn string) (string, bool, error) {
	out, err := env.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *sfntypes.ExecutionDoesNotExist
	switch {
	case errors.As(err, &missing):
		return "would start execution " + arn, false, nil
	case err != nil:
		return "", false, err
	}
	return fmt.Sprintf("would follow execution %s (%s, started %s)", arn, out.Status, aws.ToTime(out.StartDate).UTC().Format(time.RFC3339)), true, nil
}

// latestMigration names the account's newest migration, if any.
func latestMigration(ctx context.Context, env *awsEnv, src migration.AccountRef) string {
	ms, err := env.store.Migrations(ctx, src)
	if err != nil || len(ms) == 0 {
		return ""
	}
	m := ms[0]
	state := "open"
	if m.Summarized {
		state = "ended"
	}
	return fmt.Sprintf("latest migration %s (%s, created %s)", m.MigrationID, state, m.CreatedAt)
}

// planResume is resume --dry-run: what resume would do to each batch, and
// whether the migration would be summarised; it only reads.
func planResume(ctx context.Context, c *cli, env *awsEnv, id string, closeWaiting bool) (int, error) {
	bs, err := migrationToResume(ctx, c, env, id, "dry run: ")
	if err != nil {
		return exitError, err
	}
	if open := resumeBatches(ctx, c.stdout, bs, closeWaiting, resumePlan{}); open > 0 {
		fmt.Fprintf(c.stdout, "dry run: %d batch(es) would stay open: the migration would stay active; nothing was written\n", open)
		return exitOK, nil
	}
	fmt.Fprintf(c.stdout, "dry run: migration %s would be summarised and the account freed, if every move succeeds; nothing was written\n", id)
	return exitOK, nil
}

// resumePlan is resume's dry run: it says what resumer would do.
type resumePlan struct{}

func (resumePlan) move(_ context.Context, b migration.Batch) (string, bool) {
	return fmt.Sprintf("COMMITTING, would move what is left (%d moved of %d) and commit", b.Moved, b.Total), false
}

func (resumePlan) close(_ context.Context, b migration.Batch) (string, bool) {
	return fmt.Sprintf("%s, would end FAILED (%s); nothing would move", b.State, codeWorkflowStopped), false
}

func (resumePlan) leave(b migration.Batch) string {
	return fmt.Sprintf("%s, would be left as is (add --close-waiting to end it)", b.State)
}
