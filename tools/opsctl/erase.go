package main

// opsctl erase: one developer's personal data erased on request
// (docs/PRIVACY.md). Self-contained: its flags, its AWS calls, its output.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

func runErase(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("erase")
	reason := fs.String("reason", "", "the erasure request's ticket, recorded in the audit trail")
	dryRun := fs.Bool("dry-run", false, "list what would change, change nothing")
	ref, env, err := c.forAccount(ctx, fs, args)
	if err != nil {
		return exitError, err
	}
	if *reason == "" {
		return exitError, fmt.Errorf("--reason is required: the ticket of the erasure request")
	}
	// Who runs it goes into the audit record: the caller's own identity,
	// never a name typed on the command line.
	who, err := sts.NewFromConfig(env.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return exitError, fmt.Errorf("who is erasing (sts get-caller-identity): %w", err)
	}
	operator := "ops:unknown"
	if who.Arn != nil {
		operator = *who.Arn
	}
	eraser := &dynamostore.Eraser{DB: env.db, Store: env.store}
	rep, err := eraser.Erase(ctx, dynamostore.EraseRequest{Account: ref, Reason: *reason, Operator: operator,
		At: migration.Stamp(time.Now()), DryRun: *dryRun})
	if migration.IsCode(err, migration.CodeWrongStep) || migration.IsCode(err, migration.CodeNotFound) {
		return exitFindings, err
	} else if err != nil {
		return exitError, err
	}
	// One JSON line, as every JSON-writing command prints (--output text
	// turns it into key=value).
	return exitOK, json.NewEncoder(c.stdout).Encode(rep)
}
