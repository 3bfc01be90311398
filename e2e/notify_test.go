package e2e

import (
	"bufio"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/migration"
)

// logBuffer collects the stack's logs (every function's stdout) for a test
// to read while the stack runs.
type logBuffer struct{ stacktest.LogBuffer }

// jsonLines returns the JSON object lines of the functions whose logical id
// starts with one of prefixes (the pools prefix each line "[<Id>#<n>] ").
func (b *logBuffer) jsonLines(prefixes ...string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "[") {
			continue
		}
		tag, rest, ok := strings.Cut(line[1:], "] ")
		if !ok {
			continue
		}
		match := false
		for _, p := range prefixes {
			match = match || strings.HasPrefix(tag, p)
		}
		var m map[string]any
		if !match || !strings.HasPrefix(rest, "{") || json.Unmarshal([]byte(rest), &m) != nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

func startStackWithLogs(t *testing.T, params map[string]string) (*stack.Stack, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	return stacktest.Start(t, stack.Options{ProjectDir: "..", Params: params, Logs: logs}), logs
}

// carolOps is the ops input of TestOpsMigrationWithAWSCLI: three batches,
// everything pre-recorded, nothing waits.
func carolOps() map[string]any {
	return map[string]any{
		"source":      map[string]any{"platform": "douyin_open_legacy", "accountId": "dl-3003"},
		"requestedBy": "ops:alice",
		"agreement":   map[string]any{"version": "2026-11-01", "acceptedBy": "carol@example.com", "evidence": "ticket-42"},
		"targets": map[string]any{
			"subj-cloud/partner":   map[string]any{"mode": "existing", "accountId": "par-carol-1"},
			"subj-cloud/developer": map[string]any{"mode": "new"},
			"subj-acme/developer":  map[string]any{"mode": "new"},
		},
		"confirm": true,
	}
}

// putEventsCall is one NotifyCommitted attempt read from the history.
type putEventsCall struct {
	Detail    map[string]any
	Bus       string
	Source    string
	Type      string
	Succeeded bool
	Failed    bool
}

// putEventsCalls pairs every events:putEvents TaskScheduled with its outcome.
func putEventsCalls(t *testing.T, s *stack.Stack, execArn string) []putEventsCall {
	t.Helper()
	hist := awsCLI(t, s, "stepfunctions", "get-execution-history", "--execution-arn", execArn)
	var calls []putEventsCall
	open := map[float64]int{} // TaskScheduled event id -> index in calls
	for _, e := range list(hist["events"]) {
		ev := obj(e)
		id, _ := ev["id"].(float64)
		prev, _ := ev["previousEventId"].(float64)
		switch str(ev["type"]) {
		case "TaskScheduled":
			d := obj(ev["taskScheduledEventDetails"])
			if str(d["resourceType"]) != "events" || str(d["resource"]) != "putEvents" {
				continue
			}
			var params struct {
				Entries []struct {
					EventBusName, Source, DetailType string
					Detail                           any
				}
			}
			require.NoError(t, json.Unmarshal([]byte(str(d["parameters"])), &params))
			require.Len(t, params.Entries, 1, "one event per committed batch")
			en := params.Entries[0]
			c := putEventsCall{Bus: en.EventBusName, Source: en.Source, Type: en.DetailType}
			switch v := en.Detail.(type) {
			case string:
				require.NoError(t, json.Unmarshal([]byte(v), &c.Detail))
			case map[string]any:
				c.Detail = v
			}
			open[id] = len(calls)
			calls = append(calls, c)
		case "TaskStarted":
			if i, ok := open[prev]; ok {
				open[id] = i
			}
		case "TaskSucceeded", "TaskFailed", "TaskTimedOut":
			if i, ok := open[prev]; ok {
				if str(ev["type"]) == "TaskSucceeded" {
					calls[i].Succeeded = true
				} else {
					calls[i].Failed = true
				}
			}
		}
	}
	return calls
}

// The notification: one BatchCommitted event per committed batch, with ids
// and counts only, emitted by the state machine after the move is done, and
// delivered through EventBridge (a rule to an SQS queue, read back). The same
// run also proves the observability contract of the workflow functions: every
// log line carries requestId and migrationId (and batchId for batch steps),
// and one BatchesCommitted EMF line per committed batch.
func TestBatchCommittedEvents(t *testing.T) {
	s, logs := startStackWithLogs(t, nil)

	q := awsCLI(t, s, "sqs", "create-queue", "--queue-name", "batch-committed")
	queueURL := str(q["QueueUrl"])
	attrs := awsCLI(t, s, "sqs", "get-queue-attributes", "--queue-url", queueURL, "--attribute-names", "QueueArn")
	queueArn := str(obj(attrs["Attributes"])["QueueArn"])
	awsCLI(t, s, "events", "put-rule", "--name", "batch-committed",
		"--event-pattern", `{"source":["account-migration"],"detail-type":["BatchCommitted"]}`)
	awsCLI(t, s, "events", "put-targets", "--rule", "batch-committed", "--targets", "Id=queue,Arn="+queueArn)

	started := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", s.StateMachineARN,
		"--name", "notify-carol", "--input", inputFile(t, carolOps()))
	execArn := str(started["executionArn"])
	out := output(t, waitExecution(t, s, execArn, 120*time.Second))
	require.Len(t, out.Batches, 3)

	// What each committed batch's event must say, from the execution's output.
	want := map[string]map[string]any{} // batchId -> expected detail fields
	for _, b := range out.Batches {
		require.Equal(t, "COMMITTED", b.State, b.BatchKey)
		id := migration.BatchID("notify-carol", b.BatchKey)
		want[id] = map[string]any{"migrationId": "notify-carol", "batchId": id, "batchKey": b.BatchKey,
			"targetPlatform": b.TargetPlatform, "targetAccountId": b.TargetAccountID}
	}

	calls := putEventsCalls(t, s, execArn)
	succeeded := map[string]int{}
	for _, c := range calls {
		assert.False(t, c.Failed, "no putEvents attempt failed: %+v", c)
		if !c.Succeeded {
			continue
		}
		assert.Equal(t, "default", c.Bus)
		assert.Equal(t, "account-migration", c.Source)
		assert.Equal(t, "BatchCommitted", c.Type)
		id := str(c.Detail["batchId"])
		succeeded[id]++
		exp, ok := want[id]
		if !assert.True(t, ok, "event for a batch of this migration: %v", c.Detail) {
			continue
		}
		for k, v := range exp {
			assert.Equal(t, v, c.Detail[k], "detail.%s of %s", k, id)
		}
		moved, _ := c.Detail["moved"].(float64)
		total, _ := c.Detail["total"].(float64)
		assert.Positive(t, moved, "moved is a count")
		assert.Equal(t, total, moved, "a committed batch moved everything")
		assert.Equal(t, "1", c.Detail["schemaVersion"])
		allowed := map[string]bool{"schemaVersion": true, "migrationId": true, "batchId": true, "batchKey": true,
			"targetPlatform": true, "targetAccountId": true, "moved": true, "total": true, "manifest": true}
		for k := range c.Detail {
			assert.True(t, allowed[k], "detail carries ids and counts only, and where the list is, not %q", k)
		}
		// The claim check: where the list of what moved is, never the list.
		man, _ := c.Detail["manifest"].(map[string]any)
		assert.ElementsMatch(t, []string{"bucket", "key", "uri", "sha256", "items", "bytes"}, mapKeys(man), "the manifest's place")
		assert.Equal(t, moved, man["items"], "the manifest lists what moved")
		assert.Len(t, str(man["sha256"]), 64)
	}
	for id := range want {
		assert.Equal(t, 1, succeeded[id], "exactly one successful putEvents for batch %s", id)
	}
	assert.Len(t, succeeded, len(want))

	// Delivered: EventBridge routed each event to the queue.
	delivered := map[string]map[string]any{}
	eventually(t, 30*time.Second, "three BatchCommitted events in the queue", func() bool {
		msgs := awsCLI(t, s, "sqs", "receive-message", "--queue-url", queueURL, "--max-number-of-messages", "10", "--wait-time-seconds", "1")
		for _, m := range list(msgs["Messages"]) {
			var ev map[string]any
			require.NoError(t, json.Unmarshal([]byte(str(obj(m)["Body"])), &ev))
			assert.Equal(t, "account-migration", ev["source"])
			assert.Equal(t, "BatchCommitted", ev["detail-type"])
			assert.Contains(t, list(ev["resources"]), execArn, "Step Functions adds the execution to resources")
			d := obj(ev["detail"])
			delivered[str(d["batchId"])] = d
			awsCLI(t, s, "sqs", "delete-message", "--queue-url", queueURL, "--receipt-handle", str(obj(m)["ReceiptHandle"]))
		}
		return len(delivered) >= len(want)
	})
	for id, exp := range want {
		for k, v := range exp {
			assert.Equal(t, v, delivered[id][k], "delivered detail.%s of %s", k, id)
		}
	}
	assert.Len(t, delivered, len(want))

	checkWorkflowLogs(t, logs, "notify-carol", want)
}

// checkWorkflowLogs reads the workflow functions' stdout: log lines carry the
// ids, and each committed batch has its BatchesCommitted metric.
func checkWorkflowLogs(t *testing.T, logs *logBuffer, migrationID string, committed map[string]map[string]any) {
	t.Helper()
	lines := logs.jsonLines("ListAssetsFunction", "SplitBySubjectFunction", "RecordAgreementFunction",
		"SelectTargetFunction", "CommitFunction", "FinishFunction")
	require.NotEmpty(t, lines, "the workflow functions logged JSON")
	metricBatches := map[string]float64{}
	var logLines int
	for _, l := range lines {
		if _, isEMF := l["_aws"]; isEMF {
			assert.NotEmpty(t, l["requestId"], "EMF line with the invocation's request id: %v", l)
			if v, ok := l["BatchesCommitted"].(float64); ok {
				assert.Equal(t, float64(1), v)
				assert.Equal(t, migrationID, l["migrationId"])
				metricBatches[str(l["batchId"])] = l["AssetsMoved"].(float64)
				assert.Contains(t, []any{"developer", "partner"}, l["TargetPlatform"])
			}
			continue
		}
		logLines++
		assert.NotEmpty(t, l["requestId"], "every log line carries the request id: %v", l)
		assert.Equal(t, migrationID, l["migrationId"], "every log line carries the migration id: %v", l)
		h := str(l["handler"])
		if strings.HasPrefix(h, "await-") || strings.HasPrefix(h, "commit-") || h == "finish-expire" || h == "finish-fail" {
			assert.NotEmpty(t, l["batchId"], "a batch step's line carries the batch id: %v", l)
		}
		for k := range l {
			assert.NotContains(t, []string{"taskToken", "token"}, k, "no task token in logs")
		}
	}
	assert.Positive(t, logLines)
	assert.Equal(t, slices.Sorted(maps.Keys(committed)), slices.Sorted(maps.Keys(metricBatches)), "one BatchesCommitted metric per committed batch")
	for id, moved := range metricBatches {
		assert.Positive(t, moved, "AssetsMoved of %s", id)
	}
}

// A notification that cannot be sent never fails the batch: with a bus that
// does not exist, NotifyCommitted fails, is retried, then caught; every batch
// still commits and the execution succeeds.
func TestNotificationFailureDoesNotFailTheBatch(t *testing.T) {
	s, _ := startStackWithLogs(t, map[string]string{"EventBusName": "no-such-bus"})
	started := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", s.StateMachineARN,
		"--name", "notify-lost", "--input", inputFile(t, carolOps()))
	execArn := str(started["executionArn"])
	out := output(t, waitExecution(t, s, execArn, 180*time.Second))
	require.Len(t, out.Batches, 3)
	for _, b := range out.Batches {
		assert.Equal(t, "COMMITTED", b.State, b.BatchKey)
	}
	calls := putEventsCalls(t, s, execArn)
	perBatch := map[string]int{}
	for _, c := range calls {
		assert.False(t, c.Succeeded, "no event reached a bus that does not exist")
		assert.True(t, c.Failed)
		assert.Equal(t, "no-such-bus", c.Bus)
		perBatch[str(c.Detail["batchId"])]++
	}
	require.Len(t, perBatch, 3, "every committed batch tried to notify")
	for id, n := range perBatch {
		assert.Equal(t, 4, n, "batch %s: one attempt and three retries", id)
	}
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
