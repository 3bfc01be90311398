package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// commandHelp is what `opsctl help <command>` says beyond the summary and
// the flags (which come from the command's own flag set, so they cannot
// drift). A command without an entry gets its summary and flags.
type commandHelp struct {
	args     string   // what follows the command name, e.g. "--account <platform>:<accountId>"
	about    string   // what it does, what it prints, what its exit code says
	examples []string // lines to copy
	required []string // flags it cannot run without; "a|b": exactly one of them
	output   outputKind
}

var commandHelps = map[string]commandHelp{
	"bulk-start": {
		args: "(--accounts FILE | --retry-from FILE) [flags]",
		about: "Starts one migration per account of a cohort, at most --concurrency at a time, and follows each until it settles " +
			"(waiting on its developer, committed, or failed). One JSON line per account goes to the results file; a line per " +
			"settled account to stdout (with --output json, that JSON line); a progress bar to stderr when it is a terminal. " +
			"Running it again finds the same executions by name. Exit 1 when an account failed: retry them with --retry-from.",
		examples: []string{
			"opsctl bulk-start --accounts cohort.csv --concurrency 8 --results results.jsonl --requested-by ops:alice",
			"opsctl bulk-start --retry-from results.jsonl --requested-by ops:alice",
			"opsctl bulk-start --accounts cohort.csv --dry-run",
		},
		required: []string{"accounts|retry-from"},
		output:   writesBoth,
	},
	"show": {
		args:     "--account <platform>:<accountId> [flags]",
		about:    "Shows an account's latest migration: its execution, each batch's state, since when, what it waits on and who acts next. Exit 1 when the account has no migration.",
		examples: []string{"opsctl show --account microapp:ma-1001", "opsctl show --account microapp:ma-1001 --output json"},
		required: []string{"account"},
		output:   writesBoth,
	},
	"waiting": {
		args:     "[flags]",
		about:    "Lists the batches waiting on their developer (agreement, target or confirmation), oldest first, with what the developer does next.",
		examples: []string{"opsctl waiting --older-than 72h", "opsctl waiting --limit 20 --output json"},
		output:   writesBoth,
	},
	"stuck": {
		args: "[flags]",
		about: "Lists what needs ops: batches whose move stalled or is past its deadline, waiting batches whose workflow ended, " +
			"and executions that FAILED, TIMED_OUT or were ABORTED, each with the command that resolves it. Exit 1 when anything is stuck.",
		examples: []string{"opsctl stuck", "opsctl stuck --since 168h --output json"},
		output:   writesBoth,
	},
	"redrive": {
		args: "--execution-arn <arn> [flags]",
		about: "Resumes a FAILED, TIMED_OUT or ABORTED execution with Step Functions' RedriveExecution; where that is not possible, " +
			"resumes its migration through the domain (as resume does) or, when it stopped before its migration began, starts it afresh under <name>-r2. " +
			"Exit 1 when batches stay open.",
		examples: []string{"opsctl redrive --execution-arn arn:aws:states:us-east-1:123456789012:execution:MigrationStateMachine:ops-erin-1"},
		required: []string{"execution-arn"},
		output:   writesText,
	},
	"resume": {
		args: "--migration-id <id> [flags]",
		about: "Finishes a migration whose workflow stopped: moves its COMMITTING batches to the end (safe to repeat), " +
			"with --close-waiting ends the batches still waiting on the developer as FAILED (nothing of them moved), " +
			"then summarises the migration, which frees the account. Exit 1 when batches stay open.",
		examples: []string{"opsctl resume --migration-id ops-erin-1 --dry-run", "opsctl resume --migration-id ops-erin-1 --close-waiting"},
		required: []string{"migration-id"},
		output:   writesText,
	},
	"audit": {
		args:     "--account <platform>:<accountId> [flags]",
		about:    "Prints an account's audit trail, oldest first, one JSON line per event (with --output text, one key=value line per event).",
		examples: []string{"opsctl audit --account microapp:ma-1001 --out audit.jsonl", "opsctl audit --account microapp:ma-1001 --output text"},
		required: []string{"account"},
		output:   writesJSON,
	},
	"erase": {
		args: "--account <platform>:<accountId> --reason <ticket> [flags]",
		about: "Erases one developer's personal data on request (docs/PRIVACY.md): the login, of every account that has it, becomes one pseudonym in both tables; " +
			"IPs and user agents are removed; ids, states, what moved where and receipt hashes stay. Audited as PERSONAL_DATA_ERASED with the ticket and the caller's identity. " +
			"Needs the privileged ops role. Exit 1, nothing changed, while a migration of the account is in progress or when there is no such account.",
		examples: []string{"opsctl erase --account microapp:ma-1001 --reason PRIV-1234 --dry-run", "opsctl erase --account microapp:ma-1001 --reason PRIV-1234"},
		required: []string{"account", "reason"},
		output:   writesJSON,
	},
	"reconcile": {
		args:     "[flags]",
		about:    "Reads the whole table and checks its invariants (every item held once, progress counters, quotas, audit events). Exit 1 on any violation.",
		examples: []string{"opsctl reconcile", "opsctl --table <TableName output> reconcile --recheck 30s --output json"},
		output:   writesBoth,
	},
	"import": {
		args: "[flags] FILE | - | s3://bucket/prefix",
		about: "Imports old-platform records (a snapshot or JSON Lines) into the table: checks the whole input first and writes nothing " +
			"when a record is refused (each named on stderr, exit 1); otherwise adds what is new. Prints a JSON summary on stdout.",
		examples: []string{"opsctl --endpoint-url http://127.0.0.1:4566 import records.jsonl", "opsctl import --dry-run records.jsonl", "cat today.jsonl | opsctl import -"},
		output:   writesJSON,
	},
	"completion": {
		args:     "bash|zsh|fish",
		about:    "Prints a shell completion script for opsctl: its commands, each command's flags, --output's values, and files where a flag takes one.",
		examples: []string{"source <(opsctl completion bash)", "source <(opsctl completion zsh)", "opsctl completion fish > ~/.config/fish/completions/opsctl.fish"},
		output:   writesScript,
	},
	"help": {
		args:     "[command]",
		about:    "Says what opsctl does and lists its commands; with a command, what that command does, an example and its flags (required ones marked).",
		examples: []string{"opsctl help", "opsctl help bulk-start"},
		output:   writesScript,
	},
}

func init() {
	commands["help"] = command{"help about opsctl or one of its commands: opsctl help <command>", runHelp}
}

func runHelp(_ context.Context, c *cli, args []string) (int, error) {
	switch {
	case len(args) == 0:
		usage(c.stdout)
		return exitOK, nil
	case len(args) > 1:
		return exitError, errors.New("usage: opsctl help [command]")
	}
	if _, ok := commands[args[0]]; !ok {
		return exitError, fmt.Errorf("unknown command %q; opsctl help lists them", args[0])
	}
	return exitOK, printHelp(c.stdout, args[0])
}

// printHelp is a command's help: summary, usage, what it does, examples,
// its own flags (required ones marked) and the global ones.
func printHelp(w io.Writer, name string) error {
	h := commandHelps[name]
	var b strings.Builder
	fmt.Fprintf(&b, "opsctl %s: %s\n\nUsage:\n  opsctl [global flags] %s %s\n", name, commands[name].summary, name, h.args)
	if h.about != "" {
		fmt.Fprintf(&b, "\n%s\n", wrap(h.about, 100))
	}
	if len(h.examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, e := range h.examples {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	global := map[string]bool{}
	for _, n := range globalFlagNames() {
		global[strings.TrimPrefix(n, "--")] = true
	}
	required := map[string]string{}
	for _, r := range h.required {
		names := strings.Split(r, "|")
		for _, n := range names {
			required[n] = "(required)"
			if len(names) > 1 {
				required[n] = "(required: this or --" + strings.Join(others(names, n), " or --") + ")"
			}
		}
	}
	var own, shared []*flag.Flag
	if fs := commandFlagSet(name); fs != nil {
		fs.VisitAll(func(f *flag.Flag) {
			if global[f.Name] {
				shared = append(shared, f)
			} else {
				own = append(own, f)
			}
		})
	}
	if len(own) > 0 {
		b.WriteString("\nFlags:\n")
		writeFlags(&b, own, required)
	}
	if h.output != writesScript && len(shared) > 0 {
		b.WriteString("\nGlobal flags (before or after the command):\n")
		writeFlags(&b, shared, nil)
	}
	b.WriteString("\nExit codes: 0 all well, 1 something was found, 2 could not run. See docs/OPS.md.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func others(names []string, but string) []string {
	var out []string
	for _, n := range names {
		if n != but {
			out = append(out, n)
		}
	}
	return out
}

// writeFlags lists flags as --name <type>, their usage, default and mark.
func writeFlags(w io.Writer, fs []*flag.Flag, marks map[string]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range fs {
		typ, text := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if typ != "" {
			left += " " + typ
		}
		if m := marks[f.Name]; m != "" {
			text += " " + m
		}
		if d := f.DefValue; d != "" && d != "0" && d != "0s" && d != "false" {
			text += fmt.Sprintf(" (default %q)", d)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", left, text)
	}
	_ = tw.Flush()
}

// wrap breaks s into lines of at most width characters.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		if n > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
