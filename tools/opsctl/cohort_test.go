package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

func TestReadCohort(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []account
		err                 string
	}{
		{name: "csv", file: "c.csv", content: "platform,accountId\nmicroapp,ma-1\n\ndouyin_open_legacy, dl-2\n",
			want: []account{{Platform: "microapp", AccountID: "ma-1"}, {Platform: "douyin_open_legacy", AccountID: "dl-2"}}},
		{name: "csv_batch_keys_and_comments", file: "c.csv", content: "# cohort 3\naccountId,platform,batchKeys\nma-1,microapp,subj-a/developer;subj-b/developer\nma-2,microapp,\n",
			want: []account{{Platform: "microapp", AccountID: "ma-1", BatchKeys: []string{"subj-a/developer", "subj-b/developer"}}, {Platform: "microapp", AccountID: "ma-2"}}},
		{name: "json", file: "c.json", content: ` [{"platform":"microapp","accountId":"ma-1"},{"platform":"third_party","accountId":"tp-1","batchKeys":["s/partner"]}]`,
			want: []account{{Platform: "microapp", AccountID: "ma-1"}, {Platform: "third_party", AccountID: "tp-1", BatchKeys: []string{"s/partner"}}}},
		{name: "csv_without_header", file: "c.csv", content: "microapp,ma-1\n", err: "header must name platform,accountId"},
		{name: "csv_short_line", file: "c.csv", content: "platform,accountId\nmicroapp\n", err: "line 2"},
		{name: "json_unknown_field", file: "c.json", content: `[{"platform":"microapp","account":"ma-1"}]`, err: "unknown field"},
		{name: "missing_id", file: "c.json", content: `[{"platform":"microapp"}]`, err: "platform and accountId are required"},
		{name: "twice", file: "c.csv", content: "platform,accountId\nmicroapp,ma-1\nmicroapp,ma-2\nmicroapp,ma-1\n", err: "microapp:ma-1 is listed twice (entries 1 and 3)"},
		{name: "empty", file: "c.csv", content: "platform,accountId\n", err: "no accounts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readCohort(writeFile(t, tc.file, tc.content))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestExecutionName(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	a := account{Platform: "microapp", AccountID: "ma-1001"}
	n := executionName("bulk", a, 1)
	assert.Equal(t, n, executionName("bulk", a, 1), "deterministic: a rerun finds the same execution")
	assert.Regexp(t, `^bulk-microapp-ma-1001-[0-9a-f]{8}$`, n)
	assert.Equal(t, n+"-r2", executionName("bulk", a, 2))
	assert.NotEqual(t, n, executionName("bulk", account{Platform: "third_party", AccountID: "ma-1001"}, 1))
	assert.True(t, migration.ValidID(n), "the name is the migration id")

	// Ids that clean or cut to the same text still get their own names.
	dotted := executionName("bulk", account{Platform: "microapp", AccountID: "a.b@c"}, 1)
	underscored := executionName("bulk", account{Platform: "microapp", AccountID: "a_b_c"}, 1)
	assert.NotEqual(t, dotted, underscored)
	long := strings.Repeat("x", 120)
	l1 := executionName("cohort-2026-11-with-a-long-prefix", account{Platform: "douyin_open_legacy", AccountID: long + "1"}, 12)
	l2 := executionName("cohort-2026-11-with-a-long-prefix", account{Platform: "douyin_open_legacy", AccountID: long + "2"}, 12)
	for _, x := range []string{n, dotted, underscored, l1, l2} {
		assert.Regexp(t, valid, x)
	}
	assert.NotEqual(t, l1, l2)
	assert.True(t, strings.HasSuffix(l1, "-r12"))
}

func TestNextAttemptName(t *testing.T) {
	assert.Equal(t, "late-1-r2", nextAttemptName("late-1"))
	assert.Equal(t, "late-1-r3", nextAttemptName("late-1-r2"))
	assert.Equal(t, "x-rated-r2", nextAttemptName("x-rated"))
	long := strings.Repeat("n", 80)
	assert.Len(t, nextAttemptName(long), 80)
}

func TestResultsRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.jsonl")
	rs := []result{
		{Platform: "microapp", AccountID: "ma-1", State: "IN_PROGRESS", ExecutionStatus: "RUNNING", Attempt: 1},
		{Platform: "microapp", AccountID: "ma-2", State: stateFailed, ExecutionStatus: "FAILED", Error: "InvalidInput: NOT_FOUND", Attempt: 1},
		{Platform: "microapp", AccountID: "ma-3", Error: "not settled within 5m0s (execution RUNNING)", ExecutionStatus: "RUNNING", Attempt: 1},
	}
	require.NoError(t, writeResults(p, rs))
	back, err := readResults(p)
	require.NoError(t, err)
	assert.Equal(t, rs, back)
	assert.False(t, back[0].failed())
	assert.True(t, back[1].failed())
	assert.True(t, back[1].executionEnded(), "a retry of a failed execution needs a new name")
	assert.True(t, back[2].failed())
	assert.False(t, back[2].executionEnded(), "one still running is found again by its name")

	_, err = readResults(writeFile(t, "bad.jsonl", "{\"platform\":\"microapp\",\"accountId\":\"ma-1\"}\nnot json\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.jsonl:2")
}

func TestProgressPlainLines(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, 12)
	p.started()
	p.settled(result{Platform: "microapp", AccountID: "ma-1", State: "IN_PROGRESS", MigrationID: "bulk-microapp-ma-1-0a0b0c0d"})
	p.started()
	p.settled(result{Platform: "microapp", AccountID: "ma-2", State: stateFailed, MigrationID: "bulk-microapp-ma-2-01020304", Error: "InvalidInput: NOT_FOUND: no account\nmore"})
	p.finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 2, "no bar, no escape codes off a terminal")
	assert.Regexp(t, `^\[ 1/12\] microapp:ma-1\s+IN_PROGRESS\s+bulk-microapp-ma-1-0a0b0c0d$`, lines[0])
	assert.Regexp(t, `^\[ 2/12\] microapp:ma-2\s+FAILED\s+bulk-microapp-ma-2-01020304  InvalidInput: NOT_FOUND: no account$`, lines[1])
	assert.NotContains(t, b.String(), "\r")
}

func TestExecutionError(t *testing.T) {
	assert.Equal(t, "InvalidInput: NOT_FOUND: no account microapp:x",
		executionError("InvalidInput", `{"errorMessage":"NOT_FOUND: no account microapp:x","errorType":"InvalidInput"}`, "FAILED"))
	assert.Equal(t, "States.Timeout: took too long", executionError("States.Timeout", "took too long", "TIMED_OUT"))
	assert.Equal(t, "ABORTED", executionError("", "", "ABORTED"))
}

func TestTally(t *testing.T) {
	rs := []result{{State: "IN_PROGRESS"}, {State: "IN_PROGRESS"}, {State: stateFailed, Error: "x"}, {Error: "start execution: throttled"}, {State: "NO_MIGRATION_NEEDED"}}
	assert.Equal(t, "1 ERROR, 1 FAILED, 2 IN_PROGRESS (waiting on the developer), 1 NO_MIGRATION_NEEDED", tally(rs, []int{0, 1, 2, 3, 4}))
}

func TestAge(t *testing.T) {
	assert.Equal(t, "3d4h", age(76*time.Hour+5*time.Minute))
	assert.Equal(t, "5h12m", age(5*time.Hour+12*time.Minute))
	assert.Equal(t, "2m5s", age(125*time.Second))
	assert.Equal(t, "0s", age(-time.Second))
}

func TestIsLoopback(t *testing.T) {
	for ep, want := range map[string]bool{
		"http://127.0.0.1:4566": true, "http://localhost:4566": true, "http://[::1]:4566": true,
		"https://states.us-east-1.amazonaws.com": false, "": false, "http://10.0.0.5:4566": false,
	} {
		assert.Equal(t, want, isLoopback(ep), ep)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, exitError, run(context.Background(), nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage: opsctl [global flags] <command> [flags]")
	for name := range commands {
		assert.Contains(t, errOut.String(), "  "+name+" ")
	}

	errOut.Reset()
	assert.Equal(t, exitError, run(context.Background(), []string{"frobnicate"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "frobnicate"`)

	errOut.Reset()
	assert.Equal(t, exitError, run(context.Background(), []string{"bulk-start", "--accounts", "a.csv", "--retry-from", "r.jsonl"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "give exactly one of --accounts or --retry-from")

	errOut.Reset()
	assert.Equal(t, exitError, run(context.Background(), []string{"waiting", "stray"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unexpected argument "stray"`)
}

// Global flags count wherever they are given: before the command or after.
func TestGlobalFlagsBeforeOrAfterTheCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--table", "T1", "--region", "eu-west-1", "reconcile", "--json"},
		{"reconcile", "--table", "T1", "--region", "eu-west-1", "--json"},
		{"--table", "T0", "reconcile", "--table", "T1", "--region", "eu-west-1", "--json"},
	} {
		c := &cli{stderr: &bytes.Buffer{}}
		name, rest, err := c.parseArgs(args)
		require.NoError(t, err)
		assert.Equal(t, "reconcile", name)
		fs := c.flags(name)
		asJSON := fs.Bool("json", false, "")
		require.NoError(t, parse(fs, rest))
		assert.Equal(t, "T1", c.g.table, "%v", args)
		assert.Equal(t, "eu-west-1", c.g.region, "%v", args)
		assert.True(t, *asJSON)
	}
	c := &cli{stderr: &bytes.Buffer{}}
	_, _, err := c.parseArgs([]string{"show"})
	require.NoError(t, err)
	assert.Equal(t, "MigrationTable", c.g.table, "the local stack's table by default")
}

// A retry takes the execution names from the results file: a new name where
// the execution ended, the same where it still runs.
func TestRetryWorkNames(t *testing.T) {
	arn := func(name string) string {
		return "arn:aws:states:us-east-1:123456789012:execution:MigrationStateMachine:" + name
	}
	p := filepath.Join(t.TempDir(), "r.jsonl")
	require.NoError(t, writeResults(p, []result{
		{Platform: "microapp", AccountID: "ma-1", ExecutionArn: arn("cohort-a-microapp-ma-1-11111111"), ExecutionStatus: "RUNNING", State: "IN_PROGRESS", Attempt: 1},
		{Platform: "microapp", AccountID: "ma-2", ExecutionArn: arn("cohort-a-microapp-ma-2-22222222"), ExecutionStatus: "FAILED", State: stateFailed, Error: "x", Attempt: 1},
		{Platform: "microapp", AccountID: "ma-3", ExecutionArn: arn("cohort-a-microapp-ma-3-33333333-r2"), ExecutionStatus: "FAILED", State: stateFailed, Error: "x", Attempt: 2},
		{Platform: "microapp", AccountID: "ma-4", ExecutionArn: arn("cohort-a-microapp-ma-4-44444444"), ExecutionStatus: "RUNNING", Error: "not settled within 5m0s", Attempt: 1},
		{Platform: "microapp", AccountID: "ma-5", Error: "start execution: throttled", Attempt: 1},
	}))
	w, err := retryWork(p, "other-prefix")
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4}, w.todo, "the line that settled is kept as it is")
	assert.Equal(t, map[int]string{
		1: "cohort-a-microapp-ma-2-22222222-r2",
		2: "cohort-a-microapp-ma-3-33333333-r3",
		3: "cohort-a-microapp-ma-4-44444444",
		4: executionName("other-prefix", account{Platform: "microapp", AccountID: "ma-5"}, 1),
	}, w.names)
	assert.Equal(t, map[int]int{1: 2, 2: 3, 3: 1, 4: 1}, w.attempts)
}
