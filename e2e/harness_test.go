// Package e2e drives whole migrations through the local stack: the template's
// state machine on moto, every function's bootstrap under the Runtime
// Interface Emulator, the HTTP API behind the local JWT authorizer, and the
// real aws CLI for ops. `make test` builds the binaries first (make build-local).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	apiclient "github.com/devplatform/account-migration/api/client"
	"github.com/devplatform/account-migration/local/stack"
)

// startStack brings the whole local stack up on free ports and stops it when
// the test ends.
func startStack(t *testing.T, params map[string]string, seed []byte) *stack.Stack {
	t.Helper()
	if _, err := os.Stat("../.build/ApiFunction/bootstrap"); err != nil {
		t.Fatalf("function binaries missing: run `make build-local` (make test does): %v", err)
	}
	var logs io.Writer = io.Discard
	if os.Getenv("E2E_VERBOSE") != "" {
		logs = os.Stderr
	}
	s, err := stack.Start(context.Background(), stack.Options{ProjectDir: "..", Params: params, Seed: seed, Logs: logs})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// client is a developer's HTTP client: one old-platform account, one token,
// over the typed client (api/client) whose transport validates every answer
// against api/openapi.yaml. Typed calls: c.api.Plan(ctx) etc.
type client struct {
	t     *testing.T
	base  string
	token string
	api   *apiclient.Client
}

func developer(t *testing.T, s *stack.Stack, platform, accountID, login string, scopes ...string) *client {
	t.Helper()
	tok, err := s.Token(platform, accountID, login, scopes...)
	require.NoError(t, err)
	return &client{t: t, base: s.APIURL, token: tok, api: apiclient.New(s.APIURL, tok, specChecked(t))}
}

// specChecked is an HTTP client that fails t on any answer the spec does not
// describe: a field the code adds or drops without api/openapi.yaml.
func specChecked(t *testing.T) *http.Client {
	t.Helper()
	hc, err := apiclient.ValidatingHTTPClient(func(err error) { t.Error(err) })
	require.NoError(t, err)
	return hc
}

type response struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (r response) code() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// do sends body (unless nil) as JSON, with headers as name, value pairs.
func (c *client) do(method, path string, body any, headers ...string) response {
	c.t.Helper()
	var opts []apiclient.Option
	for i := 0; i+1 < len(headers); i += 2 {
		opts = append(opts, apiclient.WithHeader(headers[i], headers[i+1]))
	}
	res, err := c.api.DoJSON(context.Background(), method, path, body, opts...)
	require.NoError(c.t, err)
	out := response{Status: res.Status, Raw: string(res.Body)}
	if len(res.Body) > 0 {
		require.NoError(c.t, json.Unmarshal(res.Body, &out.Body), "body: %s", res.Body)
	}
	return out
}

// eventually polls cond until it holds or the deadline passes. Work here is
// asynchronous (the state machine runs on), so tests wait for a state, never
// for a fixed time.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// awsCLI runs the real aws CLI against the stack's AWS endpoint.
func awsCLI(t *testing.T, s *stack.Stack, args ...string) map[string]any {
	t.Helper()
	full := append([]string{"--endpoint-url", s.AWSEndpoint, "--region", s.Region, "--output", "json"}, args...)
	cmd := exec.Command("aws", full...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+s.Region, "AWS_PAGER=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), stderr.String())
	var m map[string]any
	if len(bytes.TrimSpace(out)) > 0 {
		require.NoError(t, json.Unmarshal(out, &m))
	}
	return m
}

// waitExecution polls describe-execution until the execution ends.
func waitExecution(t *testing.T, s *stack.Stack, arn string, within time.Duration) map[string]any {
	t.Helper()
	var last map[string]any
	eventually(t, within, "execution "+arn+" to end", func() bool {
		last = awsCLI(t, s, "stepfunctions", "describe-execution", "--execution-arn", arn)
		return last["status"] != "RUNNING"
	})
	return last
}

func str(v any) string { s, _ := v.(string); return s }

func list(v any) []any { l, _ := v.([]any); return l }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
