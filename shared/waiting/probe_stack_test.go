package waiting_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/waiting"
)

// TestProbeOnTheStackSeesAnOldWait runs the probe as deployed: the whole
// template on the local stack, a developer migration parked on its
// agreement, and the probe invoked through the stack's Lambda invoke path
// with a scheduled event three days later. The age it answers and the EMF
// line it printed must both be those three days.
func TestProbeOnTheStackSeesAnOldWait(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local stack: skipped with -short (make check)")
	}
	logs := &stacktest.LogBuffer{}
	ctx := context.Background()
	s := stacktest.Start(t, stack.Options{ProjectDir: "../..", Logs: logs, PoolSize: 1})
	store := dynamostore.New(stacktest.DynamoDB(s), s.TableName)

	empty := invokeProbe(t, s, time.Time{})
	assert.Zero(t, empty.OldestAgeSeconds, "nothing waits yet")

	const name = "probe-old-wait"
	in := `{"source":{"platform":"microapp","accountId":"ma-1001"},"requestedBy":"ops:probe-test"}`
	_, err := stacktest.SFN(s).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN),
		Name: aws.String(name), Input: aws.String(in)})
	require.NoError(t, err)
	parked := parkedBatch(t, store, name)

	later := waiting.Since(parked).Add(72 * time.Hour)
	r := invokeProbe(t, s, later)
	// The account has a batch per subject, all begun together: the oldest
	// is one of them. EventBridge's time has whole seconds.
	require.NotNil(t, r.Oldest)
	assert.Equal(t, name, r.Oldest.MigrationID)
	assert.False(t, waiting.Since(*r.Oldest).After(waiting.Since(parked)))
	assert.InDelta(t, later.Truncate(time.Second).Sub(waiting.Since(*r.Oldest)).Seconds(), r.OldestAgeSeconds, 0.001)
	assert.InDelta(t, (72 * time.Hour).Seconds(), r.OldestAgeSeconds, 2)
	ages := publishedAges(logs.String())
	require.Len(t, ages, 2, "one EMF line per probe")
	assert.Zero(t, ages[0])
	assert.Equal(t, r.OldestAgeSeconds, ages[1])
}

// invokeProbe posts a scheduled event to the probe through the stack's AWS
// endpoint (Lambda's Invoke API path).
func invokeProbe(t *testing.T, s *stack.Stack, at time.Time) waiting.Report {
	t.Helper()
	ev := map[string]any{"source": "aws.events", "detail-type": "Scheduled Event", "detail": map[string]any{}}
	if !at.IsZero() {
		ev["time"] = at.UTC().Format(time.RFC3339)
	}
	body, err := json.Marshal(ev)
	require.NoError(t, err)
	res, err := http.Post(s.AWSEndpoint+"/2015-03-31/functions/WaitingProbeFunction/invocations", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Empty(t, res.Header.Get("X-Amz-Function-Error"))
	var r waiting.Report
	require.NoError(t, json.NewDecoder(res.Body).Decode(&r))
	return r
}

// parkedBatch waits until the migration's batch waits on its agreement with
// the workflow's token parked.
func parkedBatch(t *testing.T, store *dynamostore.Store, migrationID string) migration.Batch {
	t.Helper()
	var parked migration.Batch
	stacktest.Eventually(t, time.Minute, "migration "+migrationID+" to park its agreement wait", func() bool {
		bs, err := store.Batches(context.Background(), migrationID)
		require.NoError(t, err)
		for _, b := range bs {
			if b.State == migration.AwaitingAgreement && b.Tokens[migration.StepAgreement] != "" {
				parked = b
				return true
			}
		}
		return false
	})
	return parked
}

// publishedAges are the OldestWaitingAgeSeconds values of the probe's EMF
// lines in the stack's logs, in order.
func publishedAges(logs string) []float64 {
	var ages []float64
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "[WaitingProbeFunction#") {
			continue
		}
		_, doc, ok := strings.Cut(line, "] ")
		var emf struct {
			AWS *json.RawMessage `json:"_aws"`
			Age *float64         `json:"OldestWaitingAgeSeconds"`
		}
		if ok && json.Unmarshal([]byte(doc), &emf) == nil && emf.AWS != nil && emf.Age != nil {
			ages = append(ages, *emf.Age)
		}
	}
	return ages
}
