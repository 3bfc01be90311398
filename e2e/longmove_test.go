package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
)

// bigBatch is a snapshot with one account holding a batch of n web apps, each
// with one data set and one order (3n items, subject subj-big), and one
// mini-program under each of siblings other subjects (one batch each).
func bigBatch(t *testing.T, n, siblings int) []byte {
	t.Helper()
	subjects := []map[string]any{{"id": "subj-big", "name": "Big Co., Ltd.", "kind": "company", "certified": true}}
	var apps, data, orders []map[string]any
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("web-%04d", i)
		apps = append(apps, map[string]any{"id": id, "platform": "microapp", "kind": "web_app", "name": id, "creatorAccountId": "ma-big",
			"subjectId": "subj-big", "certified": true})
		data = append(data, map[string]any{"id": "ds-" + id, "assetId": id, "kind": "analytics"})
		orders = append(orders, map[string]any{"id": "ord-" + id, "assetId": id, "amountCents": 100, "currency": "CNY", "status": "paid"})
	}
	for i := 0; i < siblings; i++ {
		sid := fmt.Sprintf("subj-sib-%d", i)
		subjects = append(subjects, map[string]any{"id": sid, "name": "Sibling " + sid, "kind": "company", "certified": true})
		apps = append(apps, map[string]any{"id": "app-" + sid, "platform": "microapp", "kind": "miniprogram", "name": "App " + sid,
			"creatorAccountId": "ma-big", "subjectId": sid, "certified": true})
	}
	snap, err := json.Marshal(map[string]any{"version": 1, "subjects": subjects, "apps": apps, "data": data, "orders": orders,
		"accounts": []map[string]any{{"platform": "microapp", "id": "ma-big", "login": "big@example.com", "subjectId": "subj-big"}}})
	require.NoError(t, err)
	return snap
}

// moveInvocations counts the Move step's invocations for one batch in the
// execution's history (the launcher keeps the Distributed Map's children's
// events there; on AWS read the child execution's history), and the step's
// answers in order.
func moveInvocations(t *testing.T, s *stack.Stack, arn, batchID string) (int, []map[string]any) {
	t.Helper()
	sf := stacktest.SFN(s)
	p := sfn.NewGetExecutionHistoryPaginator(sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	n := 0
	var answers []map[string]any
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, ev := range page.Events {
			switch ev.Type {
			case sfntypes.HistoryEventTypeTaskScheduled:
				var params struct{ Payload map[string]any }
				if json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &params) == nil &&
					params.Payload["action"] == "move" && params.Payload["batchId"] == batchID {
					n++
				}
			case sfntypes.HistoryEventTypeTaskSucceeded:
				var out struct{ Payload map[string]any }
				if json.Unmarshal([]byte(aws.ToString(ev.TaskSucceededEventDetails.Output)), &out) == nil &&
					out.Payload != nil && out.Payload["total"] != nil && strings.Contains(aws.ToString(ev.TaskSucceededEventDetails.Output), `"done"`) {
					answers = append(answers, out.Payload)
				}
			}
		}
	}
	return n, answers
}

// With MoveInvocationSeconds=2 a 4,500-item batch moves over many Move
// invocations, each handing back to the workflow with an answer the Move
// state can read (before, a partial answer lacked batchKey, targetPlatform
// and targetAccountId: an uncatchable States.Runtime on AWS, and under strict
// mode here). It moves exactly once while its siblings wait; they then
// confirm and commit, and the reconciliation check finds nothing.
func TestLongMoveOverManyInvocationsWhileSiblingsWait(t *testing.T) {
	const apps, siblings = 1500, 2
	s := startStack(t, map[string]string{"MoveInvocationSeconds": "2"}, bigBatch(t, apps, siblings))
	dev := developer(t, s, "microapp", "ma-big", "big@example.com")
	start := dev.do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "start-big")
	require.Equal(t, http.StatusAccepted, start.Status, start.Raw)
	mid, arn := str(start.Body["migrationId"]), str(start.Body["executionArn"])
	historyOnFailure(t, s, arn)

	big := dev.batchState(mid, "subj-big/developer")
	require.EqualValues(t, 3*apps, obj(big["progress"])["total"], "apps, data sets and orders")
	bid := str(big["batchId"])
	dev.walk(mid, bid)
	confirmed := time.Now()
	eventually(t, 8*time.Minute, "the big batch to be COMMITTED", func() bool {
		return dev.batchState(mid, "subj-big/developer")["state"] == "COMMITTED"
	})
	t.Logf("4,500 items: confirmation to COMMITTED in %s", time.Since(confirmed).Round(time.Second))

	// The last Move's answer reaches the history just after its commit: a
	// re-read and the answer, which take seconds on a loaded machine.
	var n int
	var answers []map[string]any
	eventually(t, 2*time.Minute, "the last Move answer in the history", func() bool {
		n, answers = moveInvocations(t, s, arn, bid)
		return len(answers) > 0 && answers[len(answers)-1]["done"] == true
	})
	t.Logf("Move invocations: %d; answers: %v", n, answers)
	assert.GreaterOrEqual(t, n, 5, "a 2-second Move hands back to the workflow many times")
	require.NotEmpty(t, answers)
	for i, a := range answers {
		for _, field := range []string{"done", "moved", "total", "batchKey", "targetPlatform", "targetAccountId"} {
			assert.Contains(t, a, field, "answer %d carries every field the Move state reads", i)
		}
		if i > 0 {
			assert.GreaterOrEqual(t, a["moved"], answers[i-1]["moved"], "progress only grows")
		}
	}
	last := answers[len(answers)-1]
	assert.Equal(t, true, last["done"])
	assert.EqualValues(t, 3*apps, last["moved"], "every item moved once")

	done := dev.batchState(mid, "subj-big/developer")
	assert.EqualValues(t, 3*apps, obj(done["progress"])["moved"])
	for i := 0; i < siblings; i++ {
		key := fmt.Sprintf("subj-sib-%d/developer", i)
		assert.Equal(t, "AWAITING_AGREEMENT", dev.batchState(mid, key)["state"], "%s waited through the long move", key)
	}
	for i := 0; i < siblings; i++ {
		key := fmt.Sprintf("subj-sib-%d/developer", i)
		dev.walk(mid, str(dev.batchState(mid, key)["batchId"]))
		eventually(t, 90*time.Second, key+" to be COMMITTED", func() bool { return dev.batchState(mid, key)["state"] == "COMMITTED" })
	}
	ended := waitExecution(t, s, arn, 90*time.Second)
	assert.Equal(t, "SUCCEEDED", ended["status"])
	assert.Equal(t, "COMPLETED", dev.do("GET", "/v1/migrations/"+mid, nil).Body["state"])
	out, err := opsctl(s, "reconcile")
	assert.NoError(t, err, "reconcile finds nothing: %s", out)
}

// opsctl runs the ops tool against the stack.
func opsctl(s *stack.Stack, args ...string) (string, error) {
	cmd := exec.Command("go", append([]string{"run", "../tools/opsctl", "--endpoint-url", s.AWSEndpoint, "--table", s.TableName,
		"--audit-table", s.AuditTableName}, args...)...)
	cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION="+s.Region, "AWS_DEFAULT_REGION="+s.Region)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
