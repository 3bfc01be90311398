package reliability

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
)

// The HTTP tests share one local stack (moto, every function under the
// Runtime Interface Emulator, the HTTP API with its JWT authorizer), started
// on first use with the most verbose log level. Everything it and the
// functions log is kept, so a test can look for secrets in it.
var (
	stackLogs = &stacktest.LogBuffer{}
	shared    = stacktest.Shared{Options: func() (stack.Options, error) {
		var logs io.Writer = stackLogs
		if stacktest.Verbose() {
			logs = io.MultiWriter(stackLogs, os.Stderr)
		}
		// The local HTTP API logs through this process's default logger.
		slog.SetDefault(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		return stack.Options{ProjectDir: projectDir, Logs: stackLogs, Params: map[string]string{"LogLevel": "DEBUG"}}, nil
	}}
)

func sharedStack(t *testing.T) *stack.Stack {
	t.Helper()
	return shared.Stack(t)
}

// ---- HTTP ---------------------------------------------------------------------------

type reply = stacktest.Response

// send makes one raw request: the body and headers exactly as given, through
// the typed client's raw Do, whose transport validates every answer against
// api/openapi.yaml (hostile requests included: their refusals are part of it).
func send(t *testing.T, s *stack.Stack, method, path, token string, body []byte, headers ...string) reply {
	t.Helper()
	return stacktest.WithToken(t, s, token).Send(method, path, body, headers...)
}

// sendJSON sends v as an application/json body.
func sendJSON(t *testing.T, s *stack.Stack, method, path, token string, v any, headers ...string) reply {
	t.Helper()
	var body []byte
	if v != nil {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		body = b
	}
	return send(t, s, method, path, token, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

func token(t *testing.T, s *stack.Stack, platform, accountID, login string, scopes ...string) string {
	t.Helper()
	return stacktest.Token(t, s, platform, accountID, login, scopes...)
}

// ---- state ----------------------------------------------------------------------

// stackState is everything the stack keeps: every record of the table, and
// every execution of the state machine with its status.
type stackState struct {
	Records    []string
	Executions []string
}

func readStackState(t *testing.T, s *stack.Stack) stackState {
	t.Helper()
	ctx := context.Background()
	cfg := stacktest.AWSConfig(s)
	var st stackState
	p := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.ScanInput{TableName: aws.String(s.TableName), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, row := range page.Items {
			// The answers kept for Idempotency-Keys are the caller's own (a
			// foreign caller's 404 is kept for its replay), not migration state.
			if pk, ok := row["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "IDEMPOTENCY#") {
				continue
			}
			b, err := json.Marshal(row)
			require.NoError(t, err)
			st.Records = append(st.Records, string(b))
		}
	}
	ex := sfn.NewListExecutionsPaginator(sfn.NewFromConfig(cfg), &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.StateMachineARN)})
	for ex.HasMorePages() {
		page, err := ex.NextPage(ctx)
		require.NoError(t, err)
		for _, e := range page.Executions {
			st.Executions = append(st.Executions, aws.ToString(e.Name)+" "+string(e.Status))
		}
	}
	sort.Strings(st.Records)
	sort.Strings(st.Executions)
	return st
}

// settledState waits until the stack stops changing (the state machine parks
// its waits shortly after a start), then returns what it holds.
func settledState(t *testing.T, s *stack.Stack) stackState {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := readStackState(t, s)
	for {
		time.Sleep(500 * time.Millisecond)
		cur := readStackState(t, s)
		if strings.Join(cur.Records, "\n") == strings.Join(last.Records, "\n") && strings.Join(cur.Executions, "\n") == strings.Join(last.Executions, "\n") {
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stack kept changing for 60s")
		}
		last = cur
	}
}

// activeMigration starts (or finds) the account's migration over HTTP and
// returns its id and batch ids, once every batch waits for the agreement with
// the workflow's wait parked.
func activeMigration(t *testing.T, s *stack.Stack, tok string) (string, []string) {
	t.Helper()
	r := sendJSON(t, s, "POST", "/v1/migrations", tok, map[string]any{})
	require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, r.Status, r.Raw)
	var started struct {
		MigrationID string `json:"migrationId"`
		Batches     []struct {
			BatchID string `json:"batchId"`
		} `json:"batches"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Raw), &started), r.Raw)
	mid := started.MigrationID
	var batches []string
	for _, b := range started.Batches {
		batches = append(batches, b.BatchID)
	}
	require.NotEmpty(t, mid, r.Raw)
	require.NotEmpty(t, batches, r.Raw)
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := readStackState(t, s)
		parked := 0
		for _, rec := range st.Records {
			if strings.Contains(rec, `"MIGRATION#`+mid+`"`) && strings.Contains(rec, `"agreementToken"`) {
				parked++
			}
		}
		if parked == len(batches) {
			return mid, batches
		}
		if time.Now().After(deadline) {
			t.Fatalf("the workflow never parked its agreement waits for %s", mid)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
