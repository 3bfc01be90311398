package statemachine

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/workflow"
)

// A release updates the state machine in place: an execution started before
// it keeps its definition for up to 30 days, but every step it takes from
// then on runs this code. So the previous release's definitions must read
// this code's answers: every path they read finds something in this code's
// result types and wake payloads, and every error name they Retry or Catch is
// one this code still raises. The previous release is UPGRADE_PREV (make's
// PREV), else the newest v* tag before HEAD, else HEAD~1, as for
// `make upgrade-test`, which proves the same on the running stack.
func TestPreviousReleaseDefinitionsReadThisCode(t *testing.T) {
	prev := previousRelease(t)
	files := gitOut(t, "ls-tree", "--name-only", "--full-tree", prev, "statemachine/")
	defaults := previousDefaults(t, prev)
	known := workflowErrorTypes(t)
	for _, c := range []string{migration.BatchClosedErrorType, migration.TargetTakenErrorType} {
		known[c] = true
	}
	checked := 0
	for _, file := range strings.Fields(files) {
		file = path.Base(file)
		if !strings.HasSuffix(file, ".asl.json") {
			continue
		}
		checked++
		raw := gitOut(t, "show", prev+":statemachine/"+file)
		t.Run(file, func(t *testing.T) {
			var asl map[string]any
			require.NoError(t, json.Unmarshal([]byte(substitute(raw, defaults)), &asl), "%s at %s", file, prev)
			w := &walker{file: prev + ":" + file, problems: map[string]bool{}, allStates: map[string]bool{}, reached: map[string]bool{}}
			for _, in := range previousInputs(file) {
				w.run("", asl, in, map[string]any{"Execution": map[string]any{"Id": "arn:aws:states:us-east-1:123456789012:execution:m:m-1",
					"Name": "m-1", "Input": in}, "Task": map[string]any{"Token": "token"}})
			}
			var problems []string
			for p := range w.problems {
				problems = append(problems, p)
			}
			sort.Strings(problems)
			for _, p := range problems {
				t.Errorf("an execution started on %s would fail on this code: %s", prev, p)
			}
			for _, m := range errorEquals.FindAllStringSubmatch(raw, -1) {
				for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
					if name := q[1]; !strings.Contains(name, ".") {
						assert.True(t, known[name], "%s at %s retries or catches %s, which this code no longer raises: rename errors in two releases (docs/OPS.md)", file, prev, name)
					}
				}
			}
			t.Logf("%s at %s: %d states evaluated, %d task answers of this code tried", file, prev, w.visits, w.answers)
		})
	}
	require.Positive(t, checked, "no definitions at %s", prev)
}

// previousInputs are the inputs the walk starts each machine with: what this
// code starts a migration with, and the bulk run's documented inputs.
func previousInputs(file string) []any {
	if file == "bulk.asl.json" {
		return []any{map[string]any{}, map[string]any{"cohortKey": "cohorts/a.csv", "requestedBy": "ops:a"},
			map[string]any{"cohortKey": "cohorts/a.csv", "requestedBy": "ops:a", "maxConcurrency": 5, "toleratedFailurePercentage": 10}}
	}
	return samples(reflect.TypeOf(workflow.ExecutionInput{}))
}

// previousRelease names the release before this one (see the test).
func previousRelease(t *testing.T) string {
	t.Helper()
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not a git checkout: no previous release to compare with")
	}
	ref := os.Getenv("UPGRADE_PREV")
	if ref == "" {
		if out, err := exec.Command("git", "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*", "HEAD~1").Output(); err == nil {
			ref = strings.TrimSpace(string(out))
		} else {
			ref = "HEAD~1"
		}
	}
	return strings.TrimSpace(gitOut(t, "rev-parse", "--verify", "--short=12", ref+"^{commit}"))
}

// previousDefaults are the parameter defaults of the previous template, for
// the placeholders its definitions use.
func previousDefaults(t *testing.T, prev string) map[string]string {
	t.Helper()
	var doc struct {
		Parameters map[string]struct {
			Default any `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(gitOut(t, "show", prev+":template.yaml")), &doc))
	out := map[string]string{}
	for k, p := range doc.Parameters {
		if p.Default != nil {
			b, _ := json.Marshal(p.Default)
			out[k] = strings.Trim(string(b), `"`)
		}
	}
	return out
}

func gitOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", args...).Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), stderr)
	return string(out)
}
