package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/devplatform/account-migration/shared/importer"
)

// runImport loads old-platform records (docs/CONTRACT.md §4) into the
// stack's table: a snapshot or JSON Lines, from a file, stdin ("-") or every
// object under s3://bucket/imports/prefix (through the stack's import
// workflow; --local-read reads them here instead). It checks the whole input first, writes
// nothing when a record is refused (each named on stderr, exit 1), and
// prints the summary as JSON on stdout.
func runImport(ctx context.Context, c *cli, args []string) (int, error) {
	fs := c.flags("import")
	dryRun := fs.Bool("dry-run", false, "check the input against the table and stop: write nothing")
	localRead := fs.Bool("local-read", false, "s3://: read the objects from here, one process, instead of starting the stack's import workflow")
	machine := fs.String("import-state-machine-arn", os.Getenv("IMPORT_STATE_MACHINE_ARN"), "s3://: the import workflow (the stack's ImportStateMachineArn output); env IMPORT_STATE_MACHINE_ARN; default: the one named *-import")
	if err := fs.Parse(args); err != nil {
		return exitError, err
	}
	if fs.NArg() != 1 {
		return exitError, errors.New("usage: opsctl import [--dry-run] [--local-read] FILE | - | s3://bucket/imports/prefix")
	}
	env, err := c.env(ctx)
	if err != nil {
		return exitError, err
	}
	if arg := fs.Arg(0); strings.HasPrefix(arg, "s3://") && !*localRead {
		w, err := c.newImportWorkflow(ctx, env, arg, *machine, *dryRun)
		if err != nil {
			return exitError, err
		}
		return w.run(ctx)
	}
	src, cleanup, err := c.importSource(ctx, env, fs.Arg(0))
	if err != nil {
		return exitError, err
	}
	defer cleanup()

	bar := newImportBar(c.stderr)
	refused := 0
	sum, err := importer.Run(ctx, src, env.store.ImportTable(), importer.Options{
		DryRun:   *dryRun,
		Progress: bar.update,
		Waiting: func(holder string, until time.Time) {
			bar.clear()
			fmt.Fprintf(c.stderr, "waiting for the table's import lock: held by %s until %s (another import, or one that was killed)\n", holder, until.UTC().Format(time.RFC3339))
		},
		Refused: func(r importer.Refusal) {
			refused++
			bar.clear()
			fmt.Fprintf(c.stderr, "refused: %s\n", r)
		},
	})
	bar.finish()
	if out, jerr := json.Marshal(sum); jerr == nil {
		fmt.Fprintf(c.stdout, "%s\n", out)
	}
	switch {
	case errors.Is(err, importer.ErrRefused):
		fmt.Fprintf(c.stderr, "opsctl import: %d record(s) refused; nothing was written. Fix them (docs/OPS.md) and run the import again.\n", refused)
		return exitFindings, nil
	case err != nil:
		return exitError, fmt.Errorf("%w (what was written stays; run the same import again to finish it)", err)
	}
	return exitOK, nil
}

// importSource opens the input: a file as it is, stdin spooled to a
// temporary file (the import reads its input more than once), or the
// objects under an S3 prefix, read again on each pass.
func (c *cli) importSource(ctx context.Context, env *awsEnv, arg string) (importer.Source, func(), error) {
	none := func() {}
	switch {
	case strings.HasPrefix(arg, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(arg, "s3://"), "/")
		if bucket == "" {
			return nil, none, fmt.Errorf("%q names no bucket", arg)
		}
		client := s3.NewFromConfig(env.cfg, func(o *s3.Options) { o.UsePathStyle = c.g.endpoint != "" })
		return importer.S3Source{API: client, Bucket: bucket, Prefix: prefix}, none, nil
	case arg == "-":
		f, err := os.CreateTemp("", "opsctl-import-*.jsonl")
		if err != nil {
			return nil, none, err
		}
		cleanup := func() { f.Close(); os.Remove(f.Name()) }
		if _, err := io.Copy(f, c.in()); err != nil {
			cleanup()
			return nil, none, fmt.Errorf("reading stdin: %w", err)
		}
		return importer.FileSource{Path: f.Name()}, cleanup, nil
	}
	if _, err := os.Stat(arg); err != nil {
		return nil, none, err
	}
	return importer.FileSource{Path: arg}, none, nil
}

// in is the command's standard input.
func (c *cli) in() io.Reader {
	if c.stdin != nil {
		return c.stdin
	}
	return os.Stdin
}
