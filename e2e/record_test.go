package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// consumer is the new platforms' and the notification system's side of the
// service's events: a rule on the bus with a queue as its target, read as
// they would read it.
type consumer struct {
	t      *testing.T
	q      *sqs.Client
	url    *string
	mu     sync.Mutex
	events []busEvent
}

type busEvent struct {
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

func subscribe(t *testing.T, s *stack.Stack) *consumer {
	t.Helper()
	ctx := context.Background()
	cfg := stacktest.AWSConfig(s)
	q, eb := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("platform-consumer")})
	require.NoError(t, err)
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	require.NoError(t, err)
	pattern := `{"source":["account-migration"]}`
	_, err = eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("platform-consumer"), EventPattern: &pattern})
	require.NoError(t, err)
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("platform-consumer"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}})
	require.NoError(t, err)
	return &consumer{t: t, q: q, url: queue.QueueUrl}
}

// drain reads what the queue holds now into the consumer's list.
func (c *consumer) drain() {
	c.t.Helper()
	for {
		out, err := c.q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: c.url, MaxNumberOfMessages: 10})
		require.NoError(c.t, err)
		if len(out.Messages) == 0 {
			return
		}
		for _, m := range out.Messages {
			var ev busEvent
			require.NoError(c.t, json.Unmarshal([]byte(aws.ToString(m.Body)), &ev))
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
			_, err := c.q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: c.url, ReceiptHandle: m.ReceiptHandle})
			require.NoError(c.t, err)
		}
	}
}

// of returns the details of the events of detailType received so far, for
// batchID ("" for all), deduplicated as a consumer does (on the detail's
// dedupeKey, or on batchId for BatchCommitted).
func (c *consumer) of(detailType, batchID string) []map[string]any {
	c.drain()
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out []map[string]any
	for _, ev := range c.events {
		if ev.DetailType != detailType || ev.Source != "account-migration" {
			continue
		}
		var d map[string]any
		require.NoError(c.t, json.Unmarshal(ev.Detail, &d))
		if batchID != "" && d["batchId"] != batchID {
			continue
		}
		key := str(d["batchId"]) + "/" + str(d["dedupeKey"])
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	return out
}

// remind runs the reminder sweep as its hourly schedule would, at the
// instant at (the scheduled event's time).
func remind(t *testing.T, s *stack.Stack, at time.Time) {
	t.Helper()
	payload := filepath.Join(t.TempDir(), "event.json")
	require.NoError(t, os.WriteFile(payload, []byte(`{"time":"`+at.UTC().Format(time.RFC3339)+`"}`), 0o600))
	out := filepath.Join(t.TempDir(), "out.json")
	res := awsCLI(t, s, "lambda", "invoke", "--function-name", "RemindersFunction",
		"--payload", "fileb://"+payload, out)
	require.Nil(t, res["FunctionError"], "the sweep failed: %v", res)
}

// The developer's record and the hand-off, end to end: alice migrates both of
// her batches; while one waits the notification system hears BatchWaiting
// and the reminders at their offsets (none for the batch that moved on);
// the history lists both, each receipt downloads, its hash is the audit
// trail's, and a new platform reads each BatchCommitted event's manifest and
// finds exactly what moved.
func TestRecordRemindersAndHandOff(t *testing.T) {
	s := startStack(t, nil, nil)
	events := subscribe(t, s)
	alice := developer(t, s, "microapp", "ma-1001", "alice@example.com")

	start := alice.do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "record-start")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	status := alice.do("GET", "/v1/migrations/"+mid, nil)
	acme, bright := str(batchOf(t, status, "subj-acme/developer")["batchId"]), str(batchOf(t, status, "subj-bright/developer")["batchId"])
	expiresAt := str(batchOf(t, status, "subj-bright/developer")["expiresAt"])
	deadline, err := time.Parse(time.RFC3339Nano, expiresAt)
	require.NoError(t, err)

	// Each wait on the developer is announced when it starts.
	stacktest.Eventually(t, 60*time.Second, "BatchWaiting for both batches' agreement", func() bool {
		return len(events.of("BatchWaiting", acme)) >= 1 && len(events.of("BatchWaiting", bright)) >= 1
	})
	w := events.of("BatchWaiting", bright)[0]
	assert.Equal(t, "AWAITING_AGREEMENT", w["state"])
	assert.Equal(t, expiresAt, w["expiresAt"], "the notice carries the batch's one deadline")
	assert.Equal(t, map[string]any{"platform": "microapp", "accountId": "ma-1001"}, w["account"], "ids only: the platform finds whom to tell")

	ag := alice.do("GET", "/v1/agreement", nil)
	require.Equal(t, http.StatusOK, ag.Status)
	commit := func(bid, key string, target map[string]any) {
		t.Helper()
		base := "/v1/migrations/" + mid + "/batches/" + bid
		require.Equal(t, http.StatusOK, alice.do("POST", base+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]}).Status)
		require.Equal(t, http.StatusOK, alice.do("PUT", base+"/target", target).Status)
		require.Equal(t, http.StatusAccepted, alice.do("POST", base+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "record-commit-"+bid).Status)
		stacktest.Eventually(t, 90*time.Second, bid+" to be COMMITTED", func() bool {
			return batchOf(t, alice.do("GET", "/v1/migrations/"+mid, nil), key)["state"] == "COMMITTED"
		})
	}
	commit(acme, "subj-acme/developer", map[string]any{"mode": "existing", "accountId": "dev-alice-1"})
	// (Its target and confirmation waits ended before they were parked, the
	// developer being quicker than the workflow: nothing to announce.)

	// Reminders: the sweep at 7 days and at 1 day before the deadline sends
	// each once, for the waiting batch only; a second sweep sends nothing.
	remind(t, s, deadline.Add(-8*24*time.Hour))
	assert.Empty(t, events.of("BatchExpiring", ""), "8 days left: nothing due")
	remind(t, s, deadline.Add(-7*24*time.Hour+time.Hour))
	remind(t, s, deadline.Add(-7*24*time.Hour+2*time.Hour))
	got := events.of("BatchExpiring", "")
	require.Len(t, got, 1, "the 7-day reminder, once")
	assert.Equal(t, bright, got[0]["batchId"], "none for the batch that moved on")
	assert.Equal(t, float64(604800), got[0]["before"])
	remind(t, s, deadline.Add(-23*time.Hour))
	got = events.of("BatchExpiring", bright)
	require.Len(t, got, 2, "then the 1-day reminder")
	assert.Equal(t, float64(86400), got[1]["before"])

	commit(bright, "subj-bright/developer", map[string]any{"mode": "new"})
	remind(t, s, deadline.Add(-1*time.Hour))
	assert.Len(t, events.of("BatchExpiring", ""), 2, "nothing more once it moved on")

	// The history: one migration, both batches, what moved where.
	hist := alice.do("GET", "/v1/migrations", nil)
	require.Equal(t, http.StatusOK, hist.Status, hist.Raw)
	ms := list(hist.Body["migrations"])
	require.Len(t, ms, 1)
	assert.Equal(t, mid, str(obj(ms[0])["migrationId"]))
	for _, b := range list(obj(ms[0])["batches"]) {
		assert.Equal(t, "COMMITTED", obj(b)["state"])
		assert.NotEmpty(t, obj(b)["targetAccountId"])
	}

	// Each batch: receipt (JSON and CSV), audit, BatchCommitted and manifest agree.
	audit := dynamostore.New(stacktest.DynamoDB(s), s.TableName).WithAuditTable(s.AuditTableName)
	trail, _, err := audit.AuditTrail(context.Background(), migration.AccountRef{Platform: "microapp", ID: "ma-1001"}, "", 1000)
	require.NoError(t, err)
	s3c := s3.NewFromConfig(stacktest.AWSConfig(s), func(o *s3.Options) { o.UsePathStyle = true })
	stacktest.Eventually(t, 30*time.Second, "both BatchCommitted events", func() bool { return len(events.of("BatchCommitted", "")) == 2 })
	for _, bid := range []string{acme, bright} {
		base := "/v1/migrations/" + mid + "/batches/" + bid
		rc := alice.do("GET", base+"/receipt", nil)
		require.Equal(t, http.StatusOK, rc.Status, rc.Raw)
		sum := str(rc.Body["sha256"])
		var lines bytes.Buffer
		enc := json.NewEncoder(&lines) // a map's keys sorted, each value and a newline
		enc.SetEscapeHTML(false)
		for _, it := range list(rc.Body["items"]) {
			require.NoError(t, enc.Encode(it))
		}
		h := sha256.Sum256(lines.Bytes())
		assert.Equal(t, sum, hex.EncodeToString(h[:]), "the receipt's hash is its list's")

		csvRes := alice.Send("GET", base+"/receipt", nil, "Accept", "text/csv")
		require.Equal(t, http.StatusOK, csvRes.Status)
		rows, err := csv.NewReader(strings.NewReader(csvRes.Raw)).ReadAll()
		require.NoError(t, err)
		assert.Len(t, rows, 1+len(list(rc.Body["items"])), "a header and one row an item")

		var audited []string
		for _, ev := range trail {
			if ev.Event == migration.EventReceiptIssued && ev.BatchID == bid {
				audited = append(audited, str(ev.Detail["sha256"]))
			}
		}
		assert.Equal(t, []string{sum}, audited, "the audit trail holds the receipt's hash, once")

		committed := events.of("BatchCommitted", bid)
		require.Len(t, committed, 1)
		man := obj(committed[0]["manifest"])
		assert.Equal(t, sum, man["sha256"], "the event names the receipt's hash")
		obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(str(man["bucket"])), Key: aws.String(str(man["key"]))})
		require.NoError(t, err, "the manifest is where the event says")
		body, err := io.ReadAll(obj.Body)
		require.NoError(t, err)
		mh := sha256.Sum256(body)
		assert.Equal(t, sum, hex.EncodeToString(mh[:]), "the manifest's bytes hash to the event's sha256")
		assert.Equal(t, lines.String(), string(body), "the manifest is the receipt's list")
		n := 0
		for sc := bufio.NewScanner(bytes.NewReader(body)); sc.Scan(); n++ {
		}
		assert.Equal(t, committed[0]["moved"], float64(n), "exactly what moved")
	}
}
