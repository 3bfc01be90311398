package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opsctlLocal runs the command line with no AWS behind it (help, flags,
// completion: nothing that reaches AWS).
func opsctlLocal(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpSaysWhatACommandDoesWithAnExampleAndItsRequiredFlags(t *testing.T) {
	code, out, _ := opsctlLocal("help", "show")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "Usage:\n  opsctl [global flags] show --account <platform>:<accountId> [flags]")
	assert.Contains(t, out, "Shows an account's latest migration")
	assert.Contains(t, out, "Examples:\n  opsctl show --account microapp:ma-1001\n")
	assert.Regexp(t, `(?m)^  --account string\s+the old-platform account, <platform>:<accountId> \(required\)$`, out)
	assert.Regexp(t, `(?m)^  --json\s+the same as --output json$`, out)
	assert.Regexp(t, `(?m)^Global flags.*\n(.*\n)*  --output json\|text\s`, out)

	// -h and --help are the same help, on stdout, exit 0.
	for _, h := range []string{"-h", "--help", "-help"} {
		code, same, errOut := opsctlLocal("show", h)
		require.Equal(t, exitOK, code, h)
		assert.Equal(t, out, same, h)
		assert.Empty(t, errOut, h)
	}

	_, out, _ = opsctlLocal("help", "bulk-start")
	assert.Regexp(t, `(?m)^  --accounts string\s+.* \(required: this or --retry-from\)$`, out)
	assert.Regexp(t, `(?m)^  --concurrency int\s+.* \(default "8"\)$`, out)

	// Every command has its help: what it does and an example.
	for name := range commands {
		code, out, errOut := opsctlLocal("help", name)
		require.Equal(t, exitOK, code, name+": "+errOut)
		assert.Contains(t, out, "Examples:\n  ", name)
	}

	code, out, _ = opsctlLocal("help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "usage: opsctl [global flags] <command> [flags]")
	code, _, errOut := opsctlLocal("help", "frobnicate")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
}

func TestAFlagErrorPointsToTheCommandsHelp(t *testing.T) {
	code, out, errOut := opsctlLocal("waiting", "--older-then", "72h")
	assert.Equal(t, exitError, code)
	assert.Empty(t, out)
	assert.Equal(t, "opsctl waiting: flag provided but not defined: -older-then\nRun 'opsctl help waiting' for its flags and an example.\n", errOut)

	code, _, errOut = opsctlLocal("--output", "yaml", "waiting")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, `invalid value "yaml" for flag -output: must be json or text`)
	code, _, errOut = opsctlLocal("waiting", "--output", "yaml")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "must be json or text")
}

func TestJSONIsAnAliasOfOutputJSON(t *testing.T) {
	for _, args := range [][]string{{"--json"}, {"--output", "json"}, {"--output=json"}, {"--output", "text", "--json"}} {
		c := &cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		fs := c.flags("show")
		c.jsonFlag(fs)
		require.NoError(t, parse(fs, args))
		assert.Equal(t, outputFormat(outputJSON), c.g.output, args)
	}
	c := &cli{}
	fs := c.flags("show")
	c.jsonFlag(fs)
	require.NoError(t, parse(fs, []string{"--json", "--output", "text"}))
	assert.Equal(t, outputFormat(outputText), c.g.output, "the last one given wins, as with any repeated flag")
}

func TestOutputTextOfAJSONCommandIsOneLogfmtLinePerJSONLine(t *testing.T) {
	var b bytes.Buffer
	want := outputFormat(outputText)
	w := &convertingWriter{w: &b, kind: writesJSON, want: &want}
	_, err := w.Write([]byte(`{"added":3,"unchanged":0,"byType":{"app":{"added":3}},"dryRun":false,"at":"2026-12-03T10:00:00Z"}` + "\n" + `{"kind":"BATCH_COMMITTED","actor":"ops:alice b","items":["app#1","app#2"],"x":null}`))
	require.NoError(t, err)
	assert.Equal(t, "added=3 unchanged=0 byType.app.added=3 dryRun=false at=2026-12-03T10:00:00Z\n", b.String(), "a line is converted once it is whole")
	require.NoError(t, w.Close())
	assert.Equal(t, `kind=BATCH_COMMITTED actor="ops:alice b" items=app#1,app#2 x=`+"\n", strings.SplitAfter(b.String(), "\n")[1])

	b.Reset()
	_, err = w.Write([]byte("12 audit event(s) written to a.jsonl\n"))
	require.NoError(t, err)
	assert.Equal(t, "12 audit event(s) written to a.jsonl\n", b.String(), "a line that is no JSON stays as it is")

	b.Reset()
	want = outputJSON
	w = &convertingWriter{w: &b, kind: writesText, want: &want}
	_, err = w.Write([]byte("migration m-1 is COMPLETED; the account is \"free\"\n"))
	require.NoError(t, err)
	var line struct{ Message string }
	require.NoError(t, json.Unmarshal(b.Bytes(), &line))
	assert.Equal(t, `migration m-1 is COMPLETED; the account is "free"`, line.Message)

	b.Reset()
	want = ""
	_, err = w.Write([]byte("as it is\n"))
	require.NoError(t, err)
	assert.Equal(t, "as it is\n", b.String(), "without --output, the command's own format")
}

func TestBulkProgressOffATerminalDrawsNoBar(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		var out, errOut bytes.Buffer
		p := newBulkProgress(&out, &errOut, 2, asJSON)
		p.started()
		p.settled(result{Platform: "microapp", AccountID: "ma-1", State: "IN_PROGRESS", MigrationID: "m-1"})
		p.finish()
		assert.Empty(t, errOut.String(), "no bar when stderr is no terminal")
		assert.NotContains(t, out.String(), "\r")
		if asJSON {
			var r result
			require.NoError(t, json.Unmarshal(out.Bytes(), &r))
			assert.Equal(t, "m-1", r.MigrationID)
		} else {
			assert.Regexp(t, `^\[1/2\] microapp:ma-1\s+IN_PROGRESS\s+m-1\n$`, out.String())
		}
	}
	// /dev/null is no terminal either.
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer devNull.Close()
	assert.False(t, isTerminal(devNull))
	assert.False(t, newStatusLine(devNull).on)
}

// completionCase: the words typed, and what the shell must offer.
type completionCase struct {
	words []string
	want  []string
}

var completionCases = []completionCase{
	{[]string{"opsctl", "s"}, []string{"show", "stuck"}},
	{[]string{"opsctl", "--table", "T", "s"}, []string{"show", "stuck"}},
	{[]string{"opsctl", "--region", "eu-west-1", "--table", "T", "show", "--acc"}, []string{"--account"}},
	{[]string{"opsctl", "--output", "j"}, []string{"json"}},
	{[]string{"opsctl", "waiting", "--output", "t"}, []string{"text"}},
	{[]string{"opsctl", "help", "bu"}, []string{"bulk-start"}},
	{[]string{"opsctl", "completion", "f"}, []string{"fish"}},
}

// assertCompletions runs shell's script (opsctl completion shell) on each
// case, through prog (the shell's program for the words), and compares.
func assertCompletions(t *testing.T, shell string, extra completionCase, prog func(script string, words []string) []string) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		t.Skip("no " + shell + " (apt-get install " + shell + ")")
	}
	code, out, errOut := opsctlLocal("completion", shell)
	require.Equal(t, exitOK, code, errOut)
	script := filepath.Join(t.TempDir(), "opsctl."+shell)
	require.NoError(t, os.WriteFile(script, []byte(out), 0o600))
	for _, tc := range append(completionCases[:len(completionCases):len(completionCases)], extra) {
		got, err := exec.Command(shell, prog(script, tc.words)...).CombinedOutput()
		require.NoError(t, err, string(got))
		assert.Equal(t, strings.Join(tc.want, " "), strings.TrimSpace(string(got)), tc.words)
	}
}

// Bash splits words at = and :, as it does when completing.
func TestBashCompletesAfterGlobalFlagsWithAValue(t *testing.T) {
	extra := completionCase{[]string{"opsctl", "--endpoint-url", "http", ":", "//127.0.0.1", ":", "4566", "--table", "=", "T", "au"}, []string{"audit"}}
	assertCompletions(t, "bash", extra, func(script string, words []string) []string {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		return []string{"--norc", "-c", "source " + script + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "; _opsctl; echo \"${COMPREPLY[*]}\""}
	})
}

// fish's own completion engine (complete -C) runs the script.
func TestFishCompletesAfterGlobalFlagsWithAValue(t *testing.T) {
	extra := completionCase{[]string{"opsctl", "--endpoint-url", "http://127.0.0.1:4566", "--table=T", "au"}, []string{"audit"}}
	assertCompletions(t, "fish", extra, func(script string, words []string) []string {
		return []string{"--no-config", "-c", "source " + script + "; complete -C '" + strings.Join(words, " ") + "' | string split -f1 \\t | string join ' '; true"}
	})
}

// zsh runs the bash script through bashcompinit: the words come unsplit
// (zsh filters the candidates by what is typed itself).
func TestZshFindsTheCommandAfterGlobalFlags(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("no zsh (apt-get install zsh)")
	}
	code, script, errOut := opsctlLocal("completion", "zsh")
	require.Equal(t, exitOK, code, errOut)
	path := filepath.Join(t.TempDir(), "opsctl.zsh")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o600))
	prog := "autoload -U compinit && compinit -u -d " + filepath.Join(t.TempDir(), "zcompdump") + "; source " + path + `
emulate sh; setopt kshglob noshglob braceexpand
COMP_WORDS=(opsctl --endpoint-url http://127.0.0.1:4566 --table=T show --a); COMP_CWORD=5; _opsctl; echo "${COMPREPLY[*]}"`
	out, err := exec.Command("zsh", "-f", "-c", prog).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "--account")
	assert.NotContains(t, string(out), "bulk-start", "the command is show, not the command list")
}
