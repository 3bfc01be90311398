package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
)

// bulkMachine finds the bulk state machine the stack deployed and the cohort
// bucket its definition names (the template builds the name from pseudo
// parameters; the local stack does not create buckets, so the test does).
func bulkMachine(t *testing.T, s *stack.Stack) (arn, bucket string) {
	t.Helper()
	for _, m := range list(awsCLI(t, s, "stepfunctions", "list-state-machines")["stateMachines"]) {
		if strings.HasSuffix(str(obj(m)["name"]), "-bulk") {
			arn = str(obj(m)["stateMachineArn"])
		}
	}
	require.NotEmpty(t, arn, "the stack deploys BulkMigrationStateMachine")
	var def struct {
		States map[string]struct {
			ItemReader struct {
				Parameters map[string]any
			}
		}
	}
	desc := awsCLI(t, s, "stepfunctions", "describe-state-machine", "--state-machine-arn", arn)
	require.NoError(t, json.Unmarshal([]byte(str(desc["definition"])), &def))
	bucket = str(def.States["StartCohort"].ItemReader.Parameters["Bucket"])
	require.NotEmpty(t, bucket)
	return arn, bucket
}

func putCohort(t *testing.T, s *stack.Stack, bucket, key, csv string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cohort.csv")
	require.NoError(t, os.WriteFile(p, []byte(csv), 0o600))
	awsCLI(t, s, "s3api", "put-object", "--bucket", bucket, "--key", key, "--body", p)
}

// migrationName is the name (and migration id) the bulk machine gives a row.
func migrationName(cohort, platform, accountID string) string {
	sum := md5.Sum([]byte(cohort + "/" + platform + "/" + accountID))
	return "bulk-" + hex.EncodeToString(sum[:])
}

// startExecutionIntegrationWorks runs a one-state machine that starts another
// through arn:aws:states:::states:startExecution. moto 5.2.1 passes the
// optimized integration's parameters to boto unconverted, so StateMachineArn
// (boto wants stateMachineArn) fails with States.Runtime "'StateMachineArn'"
// unless the launcher patches it (docs/OBSERVABILITY.md).
func startExecutionIntegrationWorks(t *testing.T, s *stack.Stack) (bool, string) {
	t.Helper()
	role := "arn:aws:iam::123456789012:role/probe"
	child := awsCLI(t, s, "stepfunctions", "create-state-machine", "--name", "probe-child", "--role-arn", role,
		"--definition", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	parent := awsCLI(t, s, "stepfunctions", "create-state-machine", "--name", "probe-parent", "--role-arn", role,
		"--definition", `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",`+
			`"Parameters":{"StateMachineArn":"`+str(child["stateMachineArn"])+`","Input":{}},"End":true}}}`)
	run := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", str(parent["stateMachineArn"]))
	desc := waitExecution(t, s, str(run["executionArn"]), 30*time.Second)
	return desc["status"] == "SUCCEEDED", str(desc["cause"])
}

// A cohort CSV starts one migration per account through the Distributed Map,
// with deterministic names: a row listed twice starts one migration, an
// account needing none ends at once, the others wait for their developers
// (the bulk run does not wait for them).
func TestBulkCohort(t *testing.T) {
	s := startStack(t, nil, nil)
	bulkArn, bucket := bulkMachine(t, s)
	putCohort(t, s, bucket, "cohorts/a.csv", "platform,accountId\n"+
		"microapp,ma-1001\nmicroapp,ma-5005\nthird_party,tp-4004\nmicroapp,ma-1001\n")

	bad := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", bulkArn, "--name", "cohort-bad",
		"--input", `{"requestedBy":"ops:bulk"}`)
	failed := waitExecution(t, s, str(bad["executionArn"]), 30*time.Second)
	assert.Equal(t, "FAILED", failed["status"])
	assert.Equal(t, "InvalidInput", failed["error"], "a run without cohortKey fails at once")

	run := awsCLI(t, s, "stepfunctions", "start-execution", "--state-machine-arn", bulkArn, "--name", "cohort-a",
		"--input", `{"cohortKey":"cohorts/a.csv","requestedBy":"ops:bulk","maxConcurrency":2}`)
	done := waitExecution(t, s, str(run["executionArn"]), 60*time.Second)
	require.Equal(t, "SUCCEEDED", done["status"], "%v", done)
	var res struct {
		MapRunArn           string
		ResultWriterDetails struct{ Bucket, Key string }
	}
	require.NoError(t, json.Unmarshal([]byte(str(done["output"])), &res))
	assert.Equal(t, bucket, res.ResultWriterDetails.Bucket)
	assert.True(t, strings.HasPrefix(res.ResultWriterDetails.Key, "results/"), res.ResultWriterDetails.Key)
	head := awsCLI(t, s, "s3api", "head-object", "--bucket", bucket, "--key", res.ResultWriterDetails.Key)
	assert.Positive(t, head["ContentLength"], "the run's manifest is in the bucket")
	mapRun := awsCLI(t, s, "stepfunctions", "describe-map-run", "--map-run-arn", res.MapRunArn)
	assert.Equal(t, float64(2), mapRun["maxConcurrency"], "the input's maxConcurrency bounds the run")
	items := obj(mapRun["itemCounts"])
	assert.Equal(t, float64(4), items["total"], "one item per CSV row, the header excluded")

	execs := list(awsCLI(t, s, "stepfunctions", "list-executions", "--state-machine-arn", s.StateMachineARN)["executions"])
	if len(execs) == 0 {
		if ok, cause := startExecutionIntegrationWorks(t, s); !ok {
			t.Skipf("moto cannot run arn:aws:states:::states:startExecution (%s): the launcher needs the integration-casing patch "+
				"described in docs/OBSERVABILITY.md; the cohort was read and the map ran, but no migration could start", cause)
		}
	}
	byName := map[string]map[string]any{}
	for _, e := range execs {
		byName[str(obj(e)["name"])] = obj(e)
	}
	want := map[string]string{
		migrationName("cohort-a", "microapp", "ma-1001"):    "ma-1001",
		migrationName("cohort-a", "microapp", "ma-5005"):    "ma-5005",
		migrationName("cohort-a", "third_party", "tp-4004"): "tp-4004",
	}
	require.Equal(t, slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(byName)), "one migration per account, the repeated row included")
	assert.Equal(t, float64(4), items["succeeded"], "every row is done: started, or started before")
	assert.Equal(t, float64(0), items["failed"])

	for name, account := range want {
		desc := awsCLI(t, s, "stepfunctions", "describe-execution", "--execution-arn", str(byName[name]["executionArn"]))
		var in map[string]any
		require.NoError(t, json.Unmarshal([]byte(str(desc["input"])), &in))
		assert.Equal(t, account, obj(in["source"])["accountId"])
		assert.Equal(t, "ops:bulk", in["requestedBy"])
	}
	dave := waitExecution(t, s, str(byName[migrationName("cohort-a", "third_party", "tp-4004")]["executionArn"]), 60*time.Second)
	assert.Equal(t, "NO_MIGRATION_NEEDED", output(t, dave).State)

	for _, w := range []struct {
		platform, account, login string
		batches                  int
	}{{"microapp", "ma-1001", "alice@example.com", 2}, {"microapp", "ma-5005", "erin@example.com", 1}} {
		dev := developer(t, s, w.platform, w.account, w.login)
		id := migrationName("cohort-a", w.platform, w.account)
		eventually(t, 60*time.Second, w.account+"'s migration to wait for the agreement", func() bool {
			st := dev.do("GET", "/v1/migrations/"+id, nil)
			if st.Status != 200 || len(list(st.Body["batches"])) != w.batches {
				return false
			}
			for _, b := range list(st.Body["batches"]) {
				if obj(b)["state"] != "AWAITING_AGREEMENT" {
					return false
				}
			}
			return true
		})
	}
}
