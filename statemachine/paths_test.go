package statemachine

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/workflow"
)

// On AWS a JSONPath that finds nothing (InputPath, Parameters, ResultSelector,
// ItemsPath, OutputPath, a Choice variable without IsPresent) fails the state
// with States.Runtime, which no Retry retries and no Catch catches. This test
// walks both definitions with every answer their tasks can give, built from
// the Go handlers' real result types (zero values with every omitempty field
// absent, everything filled, and each omitempty field present on its own),
// and evaluates every path the definition reads: one that can find nothing
// fails the test, naming the state, the field and the answer.
func TestEveryPathFindsSomethingWhateverTheTasksAnswer(t *testing.T) {
	_, defaults := templateStateMachines(t)
	for file, inputs := range map[string][]any{
		"migration.asl.json": samples(reflect.TypeOf(workflow.ExecutionInput{})),
		"bulk.asl.json": {map[string]any{}, map[string]any{"cohortKey": "cohorts/a.csv"}, map[string]any{"cohortKey": 7, "requestedBy": "ops:a"},
			map[string]any{"cohortKey": "cohorts/a.csv", "requestedBy": "ops:a"},
			map[string]any{"cohortKey": "cohorts/a.csv", "requestedBy": "ops:a", "maxConcurrency": 5, "toleratedFailurePercentage": 10}},
	} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			var asl map[string]any
			require.NoError(t, json.Unmarshal([]byte(substitute(string(raw), defaults)), &asl))
			w := &walker{file: file, problems: map[string]bool{}, allStates: map[string]bool{}, reached: map[string]bool{}}
			for _, in := range inputs {
				w.run("", asl, in, map[string]any{"Execution": map[string]any{"Id": "arn:aws:states:us-east-1:123456789012:execution:m:m-1",
					"Name": "m-1", "Input": in}, "Task": map[string]any{"Token": "token"}})
			}
			keys := make([]string, 0, len(w.problems))
			for p := range w.problems {
				keys = append(keys, p)
			}
			sort.Strings(keys)
			for _, p := range keys {
				t.Error(p)
			}
			t.Logf("%d states evaluated, %d task answers tried", w.visits, w.answers)
			for name := range w.allStates {
				if !w.reached[name] {
					t.Errorf("%s: state %s was never reached by the walk", file, name)
				}
			}
		})
	}
}

// The answers the test gives each task are the handlers' own result types:
// for a Lambda task the handler's first return value (read by reflection, so
// a handler that changes its result type changes what is tested), for a
// .waitForTaskToken task what the wake sends with SendTaskSuccess.
func TestResultTypesAreTheHandlers(t *testing.T) {
	for fn, m := range handlers {
		out := reflect.TypeOf(m).Out(0)
		if out.Kind() == reflect.Interface {
			require.Contains(t, byAction, fn, "%s answers `any`: the test needs its types per action", fn)
		}
	}
}

// handlers are the Go methods behind each function the definitions invoke.
var handlers = map[string]any{
	"ListAssetsFunction":     workflow.Steps.ListAssets,
	"SplitBySubjectFunction": workflow.Steps.SplitBySubject,
	"CommitFunction":         workflow.Steps.Commit,
	"FinishFunction":         workflow.Steps.Finish,
}

// byAction: Finish answers `any`; these are its answers per action
// (shared/workflow/steps.go).
var byAction = map[string]map[string]reflect.Type{
	"FinishFunction": {
		"expire": reflect.TypeOf(workflow.EndResult{}), "fail": reflect.TypeOf(workflow.EndResult{}),
		"stall": reflect.TypeOf(workflow.EndResult{}), "summarize": reflect.TypeOf(migration.Summary{}), "abandon": reflect.TypeOf(migration.Summary{}),
	},
}

// waitAnswer is what every wake sends a .waitForTaskToken task
// (migration.Migrator.waitDeadline through Signaller.Succeed).
var waitAnswer = reflect.TypeOf(migration.WaitDeadline{})

type walker struct {
	file      string
	problems  map[string]bool
	visits    int
	answers   int
	allStates map[string]bool
	reached   map[string]bool
}

func (w *walker) problem(where, what string, err error, sample any) {
	b, _ := json.Marshal(sample)
	if len(b) > 300 {
		b = append(b[:300], "..."...)
	}
	w.problems[fmt.Sprintf("%s %s: %s: %v (with %s)", w.file, where, what, err, b)] = true
}

type step struct {
	name  string
	input any
}

// run walks one States block from its StartAt with one input.
func (w *walker) run(scope string, block map[string]any, input any, ctx map[string]any) {
	states := block["States"].(map[string]any)
	for name := range states {
		w.allStates[scope+name] = true
	}
	queue := []step{{block["StartAt"].(string), input}}
	seen := map[string]bool{}
	for len(queue) > 0 && w.visits < 50000 {
		s := queue[0]
		queue = queue[1:]
		key, _ := json.Marshal(s.input)
		if seen[s.name+"\x00"+string(key)] {
			continue
		}
		seen[s.name+"\x00"+string(key)] = true
		w.visits++
		w.reached[scope+s.name] = true
		for _, next := range w.state(scope+s.name, states[s.name].(map[string]any), s.input, ctx) {
			queue = append(queue, next)
		}
	}
}

// state evaluates one state with one input and returns where it goes next.
func (w *walker) state(where string, st map[string]any, input any, ctx map[string]any) []step {
	eff := input
	if p, ok := st["InputPath"]; ok {
		if p == nil {
			eff = map[string]any{}
		} else if v, err := lookup(p.(string), input, ctx); err != nil {
			w.problem(where, "InputPath", err, input)
			return nil
		} else {
			eff = v
		}
	}
	var results []any // what the state produces, before ResultPath
	var nexts []step
	switch st["Type"] {
	case "Pass":
		res := eff
		if r, ok := st["Result"]; ok {
			res = r
		}
		if p, ok := st["Parameters"]; ok {
			v, err := template(p, eff, ctx)
			if err != nil {
				w.problem(where, "Parameters", err, eff)
				return nil
			}
			res = v
		}
		results = []any{res}
	case "Task":
		params := any(eff)
		if p, ok := st["Parameters"]; ok {
			v, err := template(p, eff, ctx)
			if err != nil {
				w.problem(where, "Parameters", err, eff)
				return nil
			}
			params = v
		}
		for _, f := range []string{"TimeoutSecondsPath", "HeartbeatSecondsPath"} {
			if p, ok := st[f].(string); ok {
				if _, err := lookup(p, eff, ctx); err != nil {
					w.problem(where, f, err, eff)
				}
			}
		}
		answers, err := taskAnswers(st["Resource"].(string), params)
		if err != nil {
			w.problem(where, "Resource", err, params)
			return nil
		}
		for _, a := range answers {
			w.answers++
			if rs, ok := st["ResultSelector"]; ok {
				v, err := template(rs, a, ctx)
				if err != nil {
					w.problem(where, "ResultSelector", err, a)
					continue
				}
				a = v
			}
			results = append(results, a)
		}
		for _, c := range list(st["Catch"]) {
			c := c.(map[string]any)
			for _, e := range errorOutputs(c["ErrorEquals"]) {
				if out, ok := w.finish(where+" Catch", st, c, input, e, ctx); ok {
					nexts = append(nexts, step{c["Next"].(string), out})
				}
			}
		}
	case "Choice":
		next := ""
		for _, r := range list(st["Choices"]) {
			match, err := rule(r.(map[string]any), eff, ctx)
			if err != nil {
				w.problem(where, "Choice", err, eff)
				return nexts
			}
			if match {
				next = r.(map[string]any)["Next"].(string)
				break
			}
		}
		if next == "" {
			next, _ = st["Default"].(string)
		}
		if next == "" {
			w.problem(where, "Choice", fmt.Errorf("no rule matches and there is no Default (States.NoChoiceMatched)"), eff)
			return nil
		}
		if out, ok := w.output(where, st, eff, ctx); ok {
			nexts = append(nexts, step{next, out})
		}
		return nexts
	case "Map":
		w.mapState(where, st, eff, ctx)
		results = []any{[]any{}}
	case "Succeed":
		w.output(where, st, eff, ctx)
		return nil
	case "Fail":
		for _, f := range []string{"ErrorPath", "CausePath"} {
			if p, ok := st[f].(string); ok {
				if _, err := lookup(p, eff, ctx); err != nil {
					w.problem(where, f, err, eff)
				}
			}
		}
		return nil
	default:
		w.problem(where, "Type", fmt.Errorf("state type %v is not known to the test (extend it)", st["Type"]), nil)
		return nil
	}
	for _, res := range results {
		if out, ok := w.finish(where, st, st, input, res, ctx); ok {
			if next, ok := st["Next"].(string); ok {
				nexts = append(nexts, step{next, out})
			}
		}
	}
	return nexts
}

// finish applies ResultPath (from rp: the state or a catcher) and the state's OutputPath.
func (w *walker) finish(where string, st, rp map[string]any, input, result any, ctx map[string]any) (any, bool) {
	out := result
	if p, ok := rp["ResultPath"]; ok {
		if p == nil {
			out = input
		} else {
			v, err := put(input, p.(string), result)
			if err != nil {
				w.problem(where, "ResultPath", err, input)
				return nil, false
			}
			out = v
		}
	}
	if _, isCatch := rp["ErrorEquals"]; isCatch {
		return out, true // a catcher's output skips the state's OutputPath
	}
	return w.output(where, st, out, ctx)
}

func (w *walker) output(where string, st map[string]any, out any, ctx map[string]any) (any, bool) {
	p, ok := st["OutputPath"]
	if !ok {
		return out, true
	}
	if p == nil {
		return map[string]any{}, true
	}
	v, err := lookup(p.(string), out, ctx)
	if err != nil {
		w.problem(where, "OutputPath", err, out)
		return nil, false
	}
	return v, true
}

// mapState checks what a Map reads from its input and walks its processor
// once per kind of item.
func (w *walker) mapState(where string, st map[string]any, eff any, ctx map[string]any) {
	for _, f := range []string{"MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"} {
		if p, ok := st[f].(string); ok {
			if _, err := lookup(p, eff, ctx); err != nil {
				w.problem(where, f, err, eff)
			}
		}
	}
	var items []any
	if reader, ok := st["ItemReader"].(map[string]any); ok {
		if _, err := template(reader["Parameters"], eff, ctx); err != nil {
			w.problem(where, "ItemReader.Parameters", err, eff)
			return
		}
		// A CSV row with the header the bulk input requires (docs/OPS.md).
		items = []any{map[string]any{"platform": "microapp", "accountId": "ma-1"}}
	} else {
		path, _ := st["ItemsPath"].(string)
		if path == "" {
			path = "$"
		}
		v, err := lookup(path, eff, ctx)
		if err != nil {
			w.problem(where, "ItemsPath", err, eff)
			return
		}
		arr, ok := v.([]any)
		if !ok {
			w.problem(where, "ItemsPath", fmt.Errorf("%s is %T, not an array", path, v), eff)
			return
		}
		items = arr
		if len(items) == 0 {
			items = []any{"item-1"} // the processor must also hold for the items a real run has
		}
	}
	proc, _ := st["ItemProcessor"].(map[string]any)
	if proc == nil {
		proc, _ = st["Iterator"].(map[string]any)
	}
	for _, item := range items {
		child := map[string]any{"Execution": ctx["Execution"], "Task": ctx["Task"], "Map": map[string]any{"Item": map[string]any{"Value": item, "Index": 0}}}
		in := item
		if sel, ok := st["ItemSelector"]; ok {
			v, err := template(sel, eff, child)
			if err != nil {
				w.problem(where, "ItemSelector", err, eff)
				continue
			}
			in = v
		}
		w.run(where+"/", proc, in, child)
	}
}

// rule evaluates a Choice rule; a variable is read only when the rule is
// reached (And and Or stop at the first answer that decides them).
func rule(r map[string]any, doc any, ctx map[string]any) (bool, error) {
	if and, ok := r["And"]; ok {
		for _, sub := range list(and) {
			if m, err := rule(sub.(map[string]any), doc, ctx); err != nil || !m {
				return false, err
			}
		}
		return true, nil
	}
	if or, ok := r["Or"]; ok {
		for _, sub := range list(or) {
			if m, err := rule(sub.(map[string]any), doc, ctx); err != nil || m {
				return m, err
			}
		}
		return false, nil
	}
	if not, ok := r["Not"]; ok {
		m, err := rule(not.(map[string]any), doc, ctx)
		return !m, err
	}
	v, err := lookup(r["Variable"].(string), doc, ctx)
	if want, ok := r["IsPresent"]; ok {
		return (err == nil) == want, nil
	}
	if err != nil {
		return false, fmt.Errorf("Variable %w and no IsPresent guards it", err)
	}
	for op, want := range r {
		switch op {
		case "Variable", "Next":
		case "BooleanEquals", "StringEquals", "NumericEquals":
			return fmt.Sprint(v) == fmt.Sprint(want), nil
		case "IsString":
			_, is := v.(string)
			return is == want, nil
		case "IsBoolean":
			_, is := v.(bool)
			return is == want, nil
		case "IsNumeric":
			_, is := v.(float64)
			return is == want, nil
		case "IsNull":
			return (v == nil) == want, nil
		default:
			return false, fmt.Errorf("comparison %s is not known to the test (extend it)", op)
		}
	}
	return false, fmt.Errorf("rule without a comparison")
}

// taskAnswers are the results a Task can produce, before its ResultSelector.
func taskAnswers(resource string, params any) ([]any, error) {
	p, _ := params.(map[string]any)
	switch {
	case strings.HasSuffix(resource, ":lambda:invoke.waitForTaskToken"):
		return samples(waitAnswer), nil // the wake's output, not the Lambda's
	case strings.HasSuffix(resource, ":lambda:invoke"):
		arn, _ := p["FunctionName"].(string)
		fn := arn[strings.LastIndex(arn, ":")+1:]
		m, ok := handlers[fn]
		if !ok {
			return nil, fmt.Errorf("function %s has no handler in the test's table", fn)
		}
		typ := reflect.TypeOf(m).Out(0)
		if typ.Kind() == reflect.Interface {
			payload, _ := p["Payload"].(map[string]any)
			action, _ := payload["action"].(string)
			if typ = byAction[fn][action]; typ == nil {
				return nil, fmt.Errorf("%s: no result type for action %q", fn, action)
			}
		}
		var out []any
		for _, s := range samples(typ) {
			// What lambda:invoke answers around the function's own answer.
			out = append(out, map[string]any{"ExecutedVersion": "$LATEST", "Payload": s, "StatusCode": 200.0,
				"SdkHttpMetadata": map[string]any{}, "SdkResponseMetadata": map[string]any{}})
		}
		return out, nil
	case strings.HasSuffix(resource, ":events:putEvents"):
		return []any{map[string]any{"Entries": []any{map[string]any{"EventId": "e-1"}}, "FailedEntryCount": 0.0}}, nil
	case strings.HasSuffix(resource, ":states:startExecution"):
		// StartExecution's response: both members are always present.
		return []any{map[string]any{"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:m:x", "StartDate": 1.7e9}}, nil
	}
	return nil, fmt.Errorf("resource %s is not known to the test (extend it)", resource)
}

// errorOutputs are what a catcher puts at its ResultPath: Error and Cause,
// and Error alone (a SendTaskFailure can arrive without its cause). A
// TargetTaken failure's cause is the wait deadline as JSON.
func errorOutputs(equals any) []any {
	name := "States.TaskFailed"
	if l := list(equals); len(l) > 0 && l[0] != "States.ALL" {
		name = l[0].(string)
	}
	cause := "cause"
	if name == "TargetTaken" {
		b, _ := json.Marshal(migration.WaitDeadline{TimeoutSeconds: 60, HeartbeatSeconds: 30})
		cause = string(b)
	}
	return []any{map[string]any{"Error": name, "Cause": cause}, map[string]any{"Error": name}}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}
