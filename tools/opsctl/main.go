// Command opsctl is the ops tool of the account migration (docs/OPS.md): bulk
// starts of migrations for a cohort of accounts, what an account's migration
// waits on, what is stuck, resuming a stopped workflow, audit exports and the
// reconciliation check. It uses the same AWS configuration as the aws CLI
// (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL), or --endpoint-url for the local
// stack of `make run`.
//
//	go run ./tools/opsctl <command> [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes: scripts and CI tell "found something" from "could not look".
const (
	exitOK       = 0
	exitFindings = 1 // violations, failed accounts, stuck work
	exitError    = 2 // bad usage, AWS unreachable, ...
)

// command is one subcommand: its flags are registered on fs before parsing.
type command struct {
	summary string
	run     func(ctx context.Context, c *cli, args []string) (int, error)
}

var commands = map[string]command{
	"bulk-start": {"start one migration per account of a cohort (CSV or JSON), bounded concurrency, results as JSON lines", runBulkStart},
	"show":       {"an account's latest migration: batches, states, waiting since, next action", runShow},
	"waiting":    {"batches waiting on developers, oldest first", runWaiting},
	"stuck":      {"batches whose move stalled or is past its deadline, and executions that FAILED, TIMED_OUT or were ABORTED", runStuck},
	"redrive":    {"resume a failed execution (RedriveExecution, or the safe fallback where it is not available)", runRedrive},
	"resume":     {"finish a migration whose workflow stopped: move COMMITTING batches, optionally close waiting ones", runResume},
	"audit":      {"an account's audit trail as JSON lines", runAudit},
	"reconcile":  {"check the table's invariants; exits 1 on any violation", runReconcile},
	"erase":      {"erase one developer's personal data on request (--account, --reason; --dry-run): logins pseudonymised, IPs and user agents removed, what moved stays verifiable", runErase},
	"import":     {"import old-platform records (snapshot or JSON Lines; FILE, - or s3://bucket/prefix): checked whole first, only what is new is added", runImport},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cli is what every command shares: the output streams and the AWS wiring.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader // nil: os.Stdin
	g              globalFlags
	aws            *awsEnv // built on first use
	// onFlags sees each command's flag set (shell completion reads it).
	onFlags func(*flag.FlagSet)
}

// run is the whole program behind main, so tests drive exactly what ops run.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWithStdin(ctx, args, nil, stdout, stderr)
}

// runWithStdin is run with the standard input given (nil: os.Stdin).
func runWithStdin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr, stdin: stdin}
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		printVersion(stdout)
		return exitOK
	}
	name, rest, err := c.parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	} else if err != nil {
		fmt.Fprintf(stderr, "opsctl: %v\n\n", err)
		usage(stderr)
		return exitError
	}
	// What the command prints is turned into the format --output asks for
	// where the command writes only the other one (output.go).
	out := &convertingWriter{w: stdout, kind: commandHelps[name].output, want: &c.g.output}
	c.stdout = out
	code, err := commands[name].run(ctx, c, rest)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = cerr
	}
	switch {
	case errors.Is(err, flag.ErrHelp): // -h, -help, --help
		if herr := printHelp(stdout, name); herr != nil {
			fmt.Fprintf(stderr, "opsctl %s: %v\n", name, herr)
			return exitError
		}
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "opsctl %s: %v\n", name, err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Run 'opsctl help %s' for its flags and an example.\n", name)
		}
		if code == exitOK {
			code = exitError
		}
	}
	return code
}

// parseArgs reads the global flags given before the command and names the
// command; its own flags (where the global ones may be given too) are left.
func (c *cli) parseArgs(args []string) (string, []string, error) {
	fs := flag.NewFlagSet("opsctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage() says it all
	c.g.register(fs)
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return "", nil, errors.New("no command")
	}
	if _, ok := commands[rest[0]]; !ok {
		return "", nil, fmt.Errorf("unknown command %q", rest[0])
	}
	return rest[0], rest[1:], nil
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: opsctl [global flags] <command> [flags]\n       opsctl --version\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-11s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nglobal flags (also accepted after the command):\n")
	fs := flag.NewFlagSet("opsctl", flag.ContinueOnError)
	var g globalFlags
	g.register(fs)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	b.WriteString("\n`opsctl help <command>` (or `opsctl <command> -h`) says what a command does, with an example and its flags. See docs/OPS.md.\n")
	_, _ = io.WriteString(w, b.String())
}

// flags builds a command's flag set, with the global flags on it too.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("opsctl "+name, flag.ContinueOnError)
	// -h and a flag error come back as errors; run prints the command's
	// help (help.go) or the error with where to find it.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c.g.register(fs)
	if c.onFlags != nil {
		c.onFlags(fs)
	}
	return fs
}

// parse parses a command's flags and refuses stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// usageError is a command line the command cannot read: run points to its help.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
