package main

import (
	"context"
	"fmt"
	"time"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/reconcile"
)

func runReconcile(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("reconcile")
	c.jsonFlag(fs)
	segments := fs.Int("segments", 4, "parallel Scan segments")
	recheck := fs.Duration("recheck", 0, "on violations, read the table again after this pause and report only those seen twice (for a table still in use)")
	env, err := c.parseEnv(ctx, fs, args)
	if err != nil {
		return exitError, err
	}
	check := func() (reconcile.Report, dynamostore.TableRecords, time.Duration, error) {
		began := time.Now()
		recs, err := dynamostore.ScanRecords(ctx, env.db, c.g.table, *segments, c.g.auditTable)
		if err != nil {
			return reconcile.Report{}, recs, 0, fmt.Errorf("scan %s: %w", c.g.table, err)
		}
		rep := reconcile.Check(recs.Records, time.Now().UTC())
		return rep, recs, time.Since(began), nil
	}
	rep, recs, took, err := check()
	if err != nil {
		return exitError, err
	}
	if !rep.OK() && *recheck > 0 {
		select {
		case <-ctx.Done():
			return exitError, ctx.Err()
		case <-time.After(*recheck):
		}
		again, _, _, err := check()
		if err != nil {
			return exitError, err
		}
		rep = rep.Intersect(again)
	}
	if c.g.output == outputJSON {
		b, err := rep.JSON()
		if err != nil {
			return exitError, err
		}
		fmt.Fprintf(c.stdout, "%s\n", b)
	} else {
		records := len(recs.Items) + len(recs.Batches) + len(recs.Audit) + len(recs.Quotas) + len(recs.Migrations) + len(recs.Unreadable) + recs.Other
		fmt.Fprintf(c.stdout, "table %s: read %d records in %s (%d segments)\n", c.g.table, records, took.Round(time.Millisecond), max(*segments, 1))
		if err := rep.WriteText(c.stdout); err != nil {
			return exitError, err
		}
	}
	if !rep.OK() {
		return exitFindings, nil
	}
	return exitOK, nil
}
