package stack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
)

// testASL exercises what the real definition relies on: a direct-ARN task,
// an arn:aws:states:::lambda:invoke task, a Catch on a typed Go error, and a
// numeric substitution.
const testASL = `{
  "StartAt": "List",
  "States": {
    "List": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "${ListAssetsFunctionArn}", "Payload.$": "$"},
      "ResultSelector": {"echo.$": "$.Payload"},
      "ResultPath": "$.list",
      "Catch": [{"ErrorEquals": ["EchoError"], "ResultPath": "$.caught", "Next": "Caught"}],
      "Next": "Commit"
    },
    "Commit": {"Type": "Task", "Resource": "${CommitFunctionArn}", "Parameters": {"value.$": "$.value"}, "ResultPath": "$.commit", "Next": "Done"},
    "Caught": {"Type": "Pass", "Result": "caught", "ResultPath": "$.branch", "End": true},
    "Done": {"Type": "Pass", "Result": {"timeout": ${PendingTimeoutSeconds}}, "ResultPath": "$.params", "End": true}
  }
}`

// fakeProject is a copy of the project's template whose every function is
// testdata/echofn and whose state machine is testASL.
func fakeProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tpl, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The test definition shows a parameter override arriving in the
	// definition: give it that substitution (the real one reads its deadline
	// from the batches instead).
	sub := "        FinishFunctionArn: !Ref FinishFunction.Alias\n"
	if !strings.Contains(string(tpl), sub) {
		t.Fatal("template.yaml's MigrationStateMachine substitutions changed; update fakeProject")
	}
	tpl = []byte(strings.Replace(string(tpl), sub, sub+"        PendingTimeoutSeconds: !Ref PendingTimeoutSeconds\n", 1))
	must(t, os.WriteFile(filepath.Join(dir, "template.yaml"), tpl, 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "statemachine"), 0o755))
	// Every other definition the template names comes along as it is.
	others, err := filepath.Glob("../../statemachine/*.asl.json")
	must(t, err)
	for _, f := range others {
		b, err := os.ReadFile(f)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, "statemachine", filepath.Base(f)), b, 0o644))
	}
	must(t, os.WriteFile(filepath.Join(dir, "statemachine", "migration.asl.json"), []byte(testASL), 0o644))
	echo := filepath.Join(dir, "echofn")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", echo, "./testdata/echofn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build echofn: %v\n%s", err, out)
	}
	parsed, err := cfn.Load(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range parsed.OfType("AWS::Serverless::Function") {
		must(t, os.MkdirAll(filepath.Join(dir, ".build", fn.ID), 0o755))
		must(t, os.Link(echo, filepath.Join(dir, ".build", fn.ID, "bootstrap")))
	}
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type lockedLog struct {
	mu sync.Mutex
	t  *testing.T
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func start(t *testing.T, opts stack.Options) *stack.Stack {
	t.Helper()
	if testing.Verbose() && os.Getenv("STACK_LOGS") != "" {
		opts.Logs = &lockedLog{t: t}
	}
	return stacktest.Start(t, opts)
}

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func waitExecution(t *testing.T, sf *sfn.Client, arn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	return stacktest.WaitExecution(t, sf, arn, 60*time.Second)
}

// TestStackWithEchoFunctions runs the real template with every function
// replaced by echofn: it proves the wiring (template, moto, fronts, pools,
// Step Functions -> Lambda through MOTO_PORT, the HTTP API) without depending
// on the handlers' progress.
func TestStackWithEchoFunctions(t *testing.T) {
	dir := fakeProject(t)
	s := start(t, stack.Options{ProjectDir: dir, PoolSize: 2, Params: map[string]string{"PendingTimeoutSeconds": "120"}})
	if s.TableName != "MigrationTable" || s.StateMachineARN != "arn:aws:states:us-east-1:123456789012:stateMachine:MigrationStateMachine-account-migration-local" {
		t.Fatalf("table %q, state machine %q", s.TableName, s.StateMachineARN)
	}
	cfg := mototest.AWSConfig(s.AWSEndpoint)
	sf := sfn.NewFromConfig(cfg)

	t.Run("seeded", func(t *testing.T) {
		out, err := dynamodb.NewFromConfig(cfg).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.TableName), Select: "COUNT"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Count == 0 {
			t.Fatal("table is empty after seeding")
		}
		t.Logf("demo snapshot: %d items", out.Count)
	})
	t.Run("http api", func(t *testing.T) {
		if status, body := get(t, s.APIURL+"/healthz", ""); status != 200 || body["function"] != "ApiFunction" {
			t.Fatalf("healthz: %d %v", status, body)
		}
		if status, _ := get(t, s.APIURL+"/v1/plan", ""); status != 401 {
			t.Fatalf("plan without token: %d", status)
		}
		tok, err := s.Token("microapp", "ma-1001", "alice@example.com")
		must(t, err)
		status, body := get(t, s.APIURL+"/v1/plan", tok)
		if status != 200 || body["function"] != "ApiFunction" {
			t.Fatalf("plan: %d %v", status, body)
		}
		// The echo shows the event the function got: the function's env has
		// the state machine ARN; the event carries the claims.
		raw, _ := json.Marshal(body["value"])
		if body["value"] != nil {
			t.Logf("value: %s", raw)
		}
	})
	t.Run("execution calls functions through the AWS front", func(t *testing.T) {
		for _, tc := range []struct {
			name, input string
			check       func(out map[string]any) bool
		}{
			{"success", `{"value": 7}`, func(out map[string]any) bool {
				list, _ := out["list"].(map[string]any)
				echo, _ := list["echo"].(map[string]any)
				commit, _ := out["commit"].(map[string]any)
				params, _ := out["params"].(map[string]any)
				return echo["function"] == "ListAssetsFunction" && commit["function"] == "CommitFunction" &&
					commit["value"] == float64(7) && params["timeout"] == float64(120)
			}},
			{"typed error is caught", `{"action": "error"}`, func(out map[string]any) bool {
				caught, _ := out["caught"].(map[string]any)
				return caught["Error"] == "EchoError" && out["branch"] == "caught"
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ex, err := sf.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN), Input: aws.String(tc.input)})
				must(t, err)
				d := waitExecution(t, sf, *ex.ExecutionArn)
				var out map[string]any
				_ = json.Unmarshal([]byte(aws.ToString(d.Output)), &out)
				if d.Status != sfntypes.ExecutionStatusSucceeded || !tc.check(out) {
					t.Fatalf("status %s error %s cause %s output %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), aws.ToString(d.Output))
				}
			})
		}
	})
	t.Run("deploy in place", func(t *testing.T) {
		run := func() map[string]any {
			t.Helper()
			ex, err := sf.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN), Input: aws.String(`{"value": 1}`)})
			must(t, err)
			d := waitExecution(t, sf, *ex.ExecutionArn)
			var out map[string]any
			_ = json.Unmarshal([]byte(aws.ToString(d.Output)), &out)
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("status %s error %s cause %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			return out
		}
		pid := func(out map[string]any) any {
			list, _ := out["list"].(map[string]any)
			return list["echo"].(map[string]any)["pid"]
		}
		before := run()
		asl := strings.Replace(testASL, `{"timeout": ${PendingTimeoutSeconds}}`, `{"timeout": ${PendingTimeoutSeconds}, "deployed": true}`, 1)
		must(t, os.WriteFile(filepath.Join(dir, "statemachine", "migration.asl.json"), []byte(asl), 0o644))
		must(t, s.Deploy(context.Background(), stack.DeployOptions{ProjectDir: dir, Params: map[string]string{"PendingTimeoutSeconds": "90"}}))
		after := run()
		params, _ := after["params"].(map[string]any)
		if params["deployed"] != true || params["timeout"] != float64(90) {
			t.Fatalf("after the deploy the machine runs the old definition or parameters: %v", params)
		}
		if pid(after) == pid(before) {
			t.Fatalf("after the deploy ListAssetsFunction still runs in the old emulator (pid %v)", pid(before))
		}
	})
	t.Run("close stops everything", func(t *testing.T) {
		must(t, s.Close())
		for _, u := range []string{s.APIURL, s.AWSEndpoint} {
			if _, err := http.Get(u + "/healthz"); err == nil {
				t.Errorf("%s still answers after Close", u)
			}
		}
		if pids := processesUnder(dir); len(pids) > 0 {
			t.Errorf("processes still running from %s: %v", dir, pids)
		}
	})
}

// processesUnder lists processes whose command line mentions dir.
func processesUnder(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

func TestStartFailsOnMissingBootstrap(t *testing.T) {
	dir := t.TempDir()
	tpl, err := os.ReadFile("../../template.yaml")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "template.yaml"), tpl, 0o644))
	_, err = stack.Start(context.Background(), stack.Options{ProjectDir: dir})
	if err == nil || !strings.Contains(err.Error(), "make build-local") || !strings.Contains(err.Error(), filepath.Join(dir, ".build", "ApiFunction", "bootstrap")) {
		t.Fatalf("err = %v", err)
	}
}

// TestStackWithProjectFunctions runs the project's own binaries. `make test`
// builds them first (make build-local).
func TestStackWithProjectFunctions(t *testing.T) {
	if _, err := os.Stat("../../.build/ApiFunction/bootstrap"); err != nil {
		t.Skip("../../.build/ApiFunction/bootstrap is missing: run `make build-local` (make test does)")
	}
	s := start(t, stack.Options{ProjectDir: "../..", PoolSize: 2})
	if status, body := get(t, s.APIURL+"/healthz", ""); status != 200 {
		t.Fatalf("healthz: %d %v", status, body)
	}
	tok, err := s.Token("microapp", "ma-1001", "alice@example.com")
	must(t, err)
	if status, body := get(t, s.APIURL+"/v1/plan", tok); status != 200 {
		t.Fatalf("GET /v1/plan: %d %v", status, body)
	}
}
