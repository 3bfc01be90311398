// Package e2e drives whole migrations through the local stack: the template's
// state machine on moto, every function's bootstrap under the Runtime
// Interface Emulator, the HTTP API behind the local JWT authorizer, and the
// real aws CLI for ops. `make test` builds the binaries first (make build-local).
// The harness itself is local/stacktest; these are its names here.
package e2e

import (
	"testing"
	"time"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
)

// startStack brings the whole local stack up on free ports and stops it when
// the test ends.
func startStack(t *testing.T, params map[string]string, seed []byte) *stack.Stack {
	t.Helper()
	return stacktest.Start(t, stack.Options{ProjectDir: "..", Params: params, Seed: seed})
}

// demoStack is one stack (the template's defaults, the demo snapshot) shared
// by the tests that read nothing stack-wide (logs, every execution) and
// migrate accounts no other of them touches: carol (TestOpsMigrationWithAWSCLI),
// dave and erin (TestOpsEdgeCases), alice (TestStalledMoveStrandsNoSibling).
// The others keep a stack of their own: they need other parameters or seeds,
// read all of its logs or executions, or move an account one of these moves.
var demoStack = stacktest.Shared{Options: func() (stack.Options, error) {
	return stack.Options{ProjectDir: ".."}, nil
}}

func TestMain(m *testing.M) { stacktest.Main(m, &demoStack) }

// sharedDemoStack is demoStack, started on first use.
func sharedDemoStack(t *testing.T) *stack.Stack {
	t.Helper()
	return demoStack.Stack(t)
}

// client is a developer's HTTP client: one old-platform account, one token,
// over the typed client (api/client) whose transport validates every answer
// against api/openapi.yaml. Typed calls: c.API.Plan(ctx) etc.
type client struct {
	*stacktest.Client
	t *testing.T
}

type response = stacktest.Response

func developer(t *testing.T, s *stack.Stack, platform, accountID, login string, scopes ...string) *client {
	t.Helper()
	return &client{Client: stacktest.Developer(t, s, platform, accountID, login, scopes...), t: t}
}

// do sends body (unless nil) as JSON, with headers as name, value pairs.
func (c *client) do(method, path string, body any, headers ...string) response {
	c.t.Helper()
	return c.Do(method, path, body, headers...)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	stacktest.Eventually(t, within, what, cond)
}

// awsCLI runs the real aws CLI against the stack's AWS endpoint.
func awsCLI(t *testing.T, s *stack.Stack, args ...string) map[string]any {
	t.Helper()
	return stacktest.AWSCLI(t, s, args...)
}

// waitExecution waits until the execution ends, then answers the aws CLI's
// describe-execution. It polls through the SDK: a CLI call per poll is a
// Python start each time, the slowest thing these tests did.
func waitExecution(t *testing.T, s *stack.Stack, arn string, within time.Duration) map[string]any {
	t.Helper()
	stacktest.WaitExecution(t, stacktest.SFN(s), arn, within)
	return awsCLI(t, s, "stepfunctions", "describe-execution", "--execution-arn", arn)
}

func str(v any) string { s, _ := v.(string); return s }

func list(v any) []any { l, _ := v.([]any); return l }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
