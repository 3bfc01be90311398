package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/require"

	apiclient "github.com/devplatform/account-migration/api/client"
	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// The integration tests share one local stack (the whole template: moto, every
// function under the Runtime Interface Emulator, the HTTP API), seeded with the
// demo snapshot plus a cohort of small accounts. Each test works on accounts
// of its own, so they do not disturb each other; the stack starts on first
// use, so the unit tests need none.
var shared = stacktest.Shared{Options: func() (stack.Options, error) {
	seed, err := cohortSeed(cohortSize)
	return stack.Options{ProjectDir: "../..", Seed: seed}, err
}}

// cohortSize is how many small accounts the seed holds for the bulk test.
const cohortSize = 200

func TestMain(m *testing.M) { stacktest.Main(m, &shared) }

// localStack returns the shared stack, starting it the first time.
func localStack(t *testing.T) *stack.Stack {
	t.Helper()
	return shared.Stack(t)
}

// cohortSeed is the demo snapshot plus n accounts ma-c000..., each holding one
// certified mini-program of its own company subject.
func cohortSeed(n int) ([]byte, error) {
	snap, err := migration.ParseSnapshot(bytes.NewReader(demo.Snapshot))
	if err != nil {
		return nil, err
	}
	for i := range n {
		addSmallAccount(snap, fmt.Sprintf("c%03d", i))
	}
	addSmallAccount(snap, "s001") // the stale-claim test's
	return json.Marshal(snap)
}

// addSmallAccount adds microapp:ma-<tag> (login <tag>@example.com) with one
// certified mini-program app-<tag> of its own company subject subj-<tag>.
func addSmallAccount(snap *migration.Snapshot, tag string) {
	subj, acct := "subj-"+tag, "ma-"+tag
	snap.Subjects = append(snap.Subjects, migration.Subject{ID: subj, Name: "Company " + tag, Kind: migration.SubjectCompany, Certified: true})
	snap.Accounts = append(snap.Accounts, migration.Account{Platform: migration.PlatformMicroapp, ID: acct, Login: tag + "@example.com", SubjectID: subj})
	snap.Apps = append(snap.Apps, migration.App{ID: "app-" + tag, Platform: migration.PlatformMicroapp, Kind: migration.AppMiniprogram,
		Name: "App " + tag, CreatorAccountID: acct, SubjectID: subj, Certified: true})
}

// opsctl runs the command line as ops do, against endpoint.
func opsctl(t *testing.T, endpoint string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{"--endpoint-url", endpoint, "--region", "us-east-1"}, args...)
	code := run(context.Background(), full, &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("opsctl %v stderr:\n%s", args, errOut.String())
	}
	return code, out.String() + errOut.String()
}

// clients are SDK clients on the stack's AWS endpoint, for setting scenes up.
type clients struct {
	db    *dynamodb.Client
	sf    *sfn.Client
	store *dynamostore.Store
}

func awsClients(s *stack.Stack) clients {
	db := stacktest.DynamoDB(s)
	return clients{db: db, sf: stacktest.SFN(s), store: dynamostore.New(db, s.TableName).WithAuditTable(s.AuditTableName)}
}

// importAccounts loads more small accounts into a running stack, as the ops
// import path would (the accounts arrive after a first attempt failed).
func importAccounts(t *testing.T, c clients, tags ...string) {
	t.Helper()
	snap := &migration.Snapshot{Version: 1}
	for _, tag := range tags {
		addSmallAccount(snap, tag)
	}
	require.NoError(t, c.store.ImportSnapshot(context.Background(), snap))
}

// setItemHolder overwrites an item's holder by hand: the corruption (or the
// repair) ops would find or make. The index entry is left as it was.
func setItemHolder(t *testing.T, db *dynamodb.Client, table, itemKey, holder string) {
	t.Helper()
	_, err := db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#" + itemKey}, "sk": &types.AttributeValueMemberS{Value: "#"}},
		UpdateExpression: aws.String("SET holder = :h"), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: holder}}})
	require.NoError(t, err)
}

// startExecution starts the state machine directly (docs/CONTRACT.md §3).
func startExecution(t *testing.T, s *stack.Stack, c clients, name string, input any) string {
	t.Helper()
	b, err := json.Marshal(input)
	require.NoError(t, err)
	out, err := c.sf.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN),
		Name: aws.String(name), Input: aws.String(string(b))})
	require.NoError(t, err)
	return aws.ToString(out.ExecutionArn)
}

// waitExecution polls until the execution has ended and returns its status.
func waitExecution(t *testing.T, c clients, arn string, within time.Duration) *sfn.DescribeExecutionOutput {
	t.Helper()
	return stacktest.WaitExecution(t, c.sf, arn, within)
}

// batchIn waits until the migration has a batch in state (with the
// workflow's wait parked when it is a waiting state) and returns it.
func batchIn(t *testing.T, c clients, migrationID string, state migration.BatchState, within time.Duration) migration.Batch {
	t.Helper()
	var found migration.Batch
	eventually(t, within, "migration "+migrationID+" to have a batch "+string(state), func() bool {
		bs, err := c.store.Batches(context.Background(), migrationID)
		if err != nil {
			return false
		}
		for _, b := range bs {
			if b.State == state && (!state.WaitingOnDeveloper() || b.Tokens[stepOf(state)] != "") {
				found = b
				return true
			}
		}
		return false
	})
	return found
}

// eventually polls cond until it holds or the deadline passes: the workflow
// runs on its own, so tests wait for a state, never for a fixed time.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	stacktest.Eventually(t, within, what, cond)
}

// developer is a developer's HTTP client on the stack's API: the typed client,
// every answer validated against api/openapi.yaml.
type developer struct {
	t   *testing.T
	api *apiclient.Client
}

func newDeveloper(t *testing.T, s *stack.Stack, platform, accountID, login string) *developer {
	t.Helper()
	c := stacktest.Developer(t, s, platform, accountID, login).API
	c.Header.Set("User-Agent", "opsctl-test-browser/1.0")
	return &developer{t: t, api: c}
}

// do sends a request and decodes the JSON answer, requiring status want.
func (d *developer) do(method, path string, body any, want int) map[string]any {
	d.t.Helper()
	res, err := d.api.DoJSON(context.Background(), method, path, body)
	require.NoError(d.t, err)
	require.Equal(d.t, want, res.Status, "%s %s: %s", method, path, res.Body)
	var out map[string]any
	if len(res.Body) > 0 {
		require.NoError(d.t, json.Unmarshal(res.Body, &out))
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}
