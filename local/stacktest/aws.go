package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
)

// AWSConfig is the SDK config of the stack's AWS endpoint: test credentials,
// its region, nothing read from the environment.
func AWSConfig(s *stack.Stack) aws.Config { return mototest.AWSConfig(s.AWSEndpoint) }

// DynamoDB is a DynamoDB client on the stack's AWS endpoint.
func DynamoDB(s *stack.Stack) *dynamodb.Client { return dynamodb.NewFromConfig(AWSConfig(s)) }

// SFN is a Step Functions client on the stack's AWS endpoint.
func SFN(s *stack.Stack) *sfn.Client { return sfn.NewFromConfig(AWSConfig(s)) }

// Eventually polls cond until it holds or within has passed, then fails t
// naming what it waited for. Work here is asynchronous (the state machine
// runs on), so tests wait for a state, never for a fixed time.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitExecution polls DescribeExecution until the execution is no longer
// RUNNING, and returns its last description.
func WaitExecution(t testing.TB, sf *sfn.Client, arn string, within time.Duration) *sfn.DescribeExecutionOutput {
	t.Helper()
	var last *sfn.DescribeExecutionOutput
	Eventually(t, within, "execution "+arn+" to end", func() bool {
		out, err := sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		require.NoError(t, err)
		last = out
		return out.Status != "RUNNING"
	})
	return last
}

// AWSCLI runs the real aws CLI against the stack's AWS endpoint, as ops do,
// and decodes its JSON answer (nil when it printed nothing).
func AWSCLI(t testing.TB, s *stack.Stack, args ...string) map[string]any {
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

// ResetMoto empties a moto server (every table, state machine and
// execution), for tests that share one moto and deploy afresh each time.
func ResetMoto(t testing.TB, endpoint string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/moto-api/reset", nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}
