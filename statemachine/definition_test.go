// Package statemachine holds the ASL definitions. This test is the check
// cfn-lint cannot make (it never opens DefinitionUri files): substitutions
// match, the definition parses (with moto's own ASL parser too), every
// transition names a state, and the house rules hold for every task.
package statemachine

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// templateStateMachines reads DefinitionUri and the substitution names of
// every state machine in template.yaml, and the template's parameter defaults.
func templateStateMachines(t *testing.T) (map[string][]string, map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Parameters map[string]struct {
			Default any `yaml:"Default"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				DefinitionURI           string               `yaml:"DefinitionUri"`
				DefinitionSubstitutions map[string]yaml.Node `yaml:"DefinitionSubstitutions"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	machines := map[string][]string{}
	for _, r := range doc.Resources {
		if r.Type != "AWS::Serverless::StateMachine" {
			continue
		}
		var names []string
		for k := range r.Properties.DefinitionSubstitutions {
			names = append(names, k)
		}
		sort.Strings(names)
		machines[strings.TrimPrefix(r.Properties.DefinitionURI, "statemachine/")] = names
	}
	defaults := map[string]string{}
	for k, p := range doc.Parameters {
		if p.Default != nil {
			b, _ := json.Marshal(p.Default)
			defaults[k] = strings.Trim(string(b), `"`)
		}
	}
	return machines, defaults
}

// substitute fills every placeholder the way CloudFormation does: numbers
// from the parameter defaults, ARNs with a sample function ARN.
func substitute(def string, defaults map[string]string) string {
	return placeholder.ReplaceAllStringFunc(def, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		if strings.HasSuffix(name, "Arn") {
			return "arn:aws:lambda:us-east-1:123456789012:function:" + strings.TrimSuffix(name, "Arn")
		}
		if v, ok := defaults[name]; ok {
			return v
		}
		return m
	})
}

func TestDefinitions(t *testing.T) {
	t.Parallel() // python3 and cfn-lint (TestTemplateLints) each take seconds
	machines, defaults := templateStateMachines(t)
	require.NotEmpty(t, machines, "template.yaml declares state machines")
	substituted := map[string]string{}
	for file, subs := range machines {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			used := map[string]bool{}
			for _, m := range placeholder.FindAllStringSubmatch(string(raw), -1) {
				used[m[1]] = true
			}
			for _, s := range subs {
				assert.True(t, used[s], "substitution %s is never used in %s", s, file)
				delete(used, s)
			}
			assert.Empty(t, used, "placeholders without a DefinitionSubstitution")

			def := substitute(string(raw), defaults)
			var asl map[string]any
			require.NoError(t, json.Unmarshal([]byte(def), &asl), "the substituted definition is JSON")
			checkScope(t, "top", asl)
			substituted[file] = def
		})
	}
	mustParseWithMoto(t, substituted)
}

// transientLambdaErrors are retried by every Lambda task: the service's own
// hiccups, and a function that timed out or crashed (every step is safe to run
// again; a wait that timed out under load must not fail its batch).
var transientLambdaErrors = []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
	"Sandbox.Timedout", "Runtime.ExitError"}

// checkScope checks one States block (the top level, or a Map's processor).
func checkScope(t *testing.T, scope string, block map[string]any) {
	states, _ := block["States"].(map[string]any)
	require.NotEmpty(t, states, "%s: no States", scope)
	start, _ := block["StartAt"].(string)
	_, ok := states[start]
	require.True(t, ok, "%s: StartAt %q names no state", scope, start)

	reached := map[string]bool{}
	var walk func(string)
	next := func(name string, st map[string]any) []string {
		var out []string
		for _, k := range []string{"Next", "Default"} {
			if s, ok := st[k].(string); ok {
				out = append(out, s)
			}
		}
		for _, list := range []string{"Choices", "Catch"} {
			items, _ := st[list].([]any)
			for _, it := range items {
				if s, ok := it.(map[string]any)["Next"].(string); ok {
					out = append(out, s)
				}
			}
		}
		for _, s := range out {
			_, ok := states[s]
			assert.True(t, ok, "%s: %s goes to %q, which is no state", scope, name, s)
		}
		return out
	}
	walk = func(name string) {
		if reached[name] {
			return
		}
		reached[name] = true
		st, _ := states[name].(map[string]any)
		for _, n := range next(name, st) {
			walk(n)
		}
	}
	walk(start)
	for name := range states {
		assert.True(t, reached[name], "%s: state %s is unreachable", scope, name)
	}

	for name, v := range states {
		st := v.(map[string]any)
		where := scope + "/" + name
		switch st["Type"] {
		case "Choice":
			assert.Contains(t, st, "Default", "%s: every Choice has a Default (a miss is States.Runtime)", where)
		case "Map":
			proc, _ := st["ItemProcessor"].(map[string]any)
			require.NotNil(t, proc, "%s: Map without ItemProcessor", where)
			checkScope(t, where, proc)
		case "Task":
			res, _ := st["Resource"].(string)
			if strings.HasSuffix(res, ".waitForTaskToken") {
				checkCallbackTimeouts(t, where, st)
				assert.True(t, catches(st, "States.Timeout") && catches(st, "States.HeartbeatTimeout"),
					"%s: a callback wait catches both timeouts (moto reports a heartbeat expiry as States.Timeout)", where)
			}
			if strings.Contains(res, ":lambda:") {
				retried := map[string]bool{}
				retries, _ := st["Retry"].([]any)
				for _, r := range retries {
					for _, e := range r.(map[string]any)["ErrorEquals"].([]any) {
						retried[e.(string)] = true
					}
				}
				for _, e := range transientLambdaErrors {
					assert.True(t, retried[e], "%s: a Lambda task retries %s", where, e)
				}
			}
		}
		_, hasQL := st["QueryLanguage"]
		assert.False(t, hasQL, "%s: stay on JSONPath (JSONata does not run locally)", where)
	}
}

// checkCallbackTimeouts: every callback wait is bounded by a timeout and a
// heartbeat, either fixed (the heartbeat below the timeout) or read from the
// state (the migration's waits read what is left of the batch's one deadline,
// which migration.WaitDeadlineUntil keeps in that order).
func checkCallbackTimeouts(t *testing.T, where string, st map[string]any) {
	timeout, ok1 := st["TimeoutSeconds"].(float64)
	heartbeat, ok2 := st["HeartbeatSeconds"].(float64)
	if ok1 && ok2 {
		assert.Less(t, heartbeat, timeout, "%s: HeartbeatSeconds must be below TimeoutSeconds", where)
		return
	}
	timeoutPath, ok1 := st["TimeoutSecondsPath"].(string)
	heartbeatPath, ok2 := st["HeartbeatSecondsPath"].(string)
	assert.True(t, ok1 && ok2, "%s: a callback wait needs TimeoutSeconds and HeartbeatSeconds (or their Paths)", where)
	assert.Equal(t, "$.deadline.timeoutSeconds", timeoutPath, "%s: the wait lasts what is left of the deadline", where)
	assert.Equal(t, "$.deadline.heartbeatSeconds", heartbeatPath, "%s", where)
}

func catches(st map[string]any, name string) bool {
	items, _ := st["Catch"].([]any)
	for _, it := range items {
		for _, e := range it.(map[string]any)["ErrorEquals"].([]any) {
			if e == name {
				return true
			}
		}
	}
	return false
}

// mustParseWithMoto runs each definition through moto's ASL parser, the one
// that executes it locally, as the launcher patches it: all in one Python
// process (importing moto takes seconds), each refusal named by its file.
func mustParseWithMoto(t *testing.T, defs map[string]string) {
	t.Helper()
	in, err := json.Marshal(defs)
	require.NoError(t, err)
	cmd := exec.Command("python3", "-c", `import sys, json
sys.path.insert(0, "../local/moto")
import launcher
launcher.patch_tolerated_percentage_integer()
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
failed = False
for name, definition in json.load(sys.stdin).items():
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as e:
        print(f"{name}: {e!r}")
        failed = True
sys.exit(1 if failed else 0)`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "moto's ASL parser refused a definition: %s", out)
}

// TestTemplateLints runs cfn-lint (what `sam validate --lint` runs).
func TestTemplateLints(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("cfn-lint", "../template.yaml").CombinedOutput()
	require.NoError(t, err, "cfn-lint: %s", out)
}
