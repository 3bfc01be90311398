package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
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
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

const (
	root = "../.."
	// Migrations parked in a wait on the developer across the deploy, a
	// third in each: agreement, target, confirmation.
	waiting = 20
	// The big batch's apps (3 items each: app, data set, order): with
	// 2-second Move invocations it is still moving when the deploy lands.
	bigApps = 700
)

// params are the same for both releases: 2-second Move invocations make the
// big batch hand back to the workflow many times, across the deploy.
var params = map[string]string{"MoveInvocationSeconds": "2"}

// parked is one migration left waiting (or moving) on the previous release.
type parked struct {
	dev      *stacktest.Client
	sf       *sfn.Client
	account  string
	mid, arn string
	key, bid string
	step     migration.Step // the wait it is parked in; "" = moving
}

// The previous release runs with migrations in every wait and one mid-move;
// this build is deployed into the same running stack; every migration then
// ends with each batch committed exactly once, reconcile clean, and no
// execution failed.
func TestUpgradeWithMigrationsInFlight(t *testing.T) {
	stacktest.RequireBinaries(t, root)
	prev := findPrev(t, root)
	began := time.Now()
	prevDir, prevBuild := prev.build(t, root)
	t.Logf("previous release %s (%s, commit %.12s) built in %s", prev.Ref, prev.Describe, prev.Commit, time.Since(began).Round(time.Second))

	logs := &stacktest.LogBuffer{}
	s := stacktest.Start(t, stack.Options{
		ProjectDir: prevDir, BuildDir: prevBuild, Params: params, Seed: snapshot(t), Logs: logs,
		SigningKeyPath: filepath.Join(t.TempDir(), "jwt.pem"),
	})
	store := dynamostore.New(stacktest.DynamoDB(s), s.TableName).WithAuditTable(s.AuditTableName)
	ctx := context.Background()

	// Park: 20 migrations, a third in each wait on the developer; the big
	// account's sibling batch waits for its agreement while its big batch moves.
	var all []*parked
	for i := range waiting {
		p := startMigration(t, s, fmt.Sprintf("ma-w%02d", i), fmt.Sprintf("subj-w%02d/developer", i))
		p.step = []migration.Step{migration.StepAgreement, migration.StepTarget, migration.StepConfirmation}[i%3]
		all = append(all, p)
	}
	big := startMigration(t, s, "ma-big", "subj-big/developer")
	sibling := &parked{dev: big.dev, sf: big.sf, account: big.account, mid: big.mid, arn: big.arn, key: "subj-sib/developer", step: migration.StepAgreement}
	all = append(all, sibling)
	big.step = migration.StepConfirmation
	for _, p := range append(all, big) {
		p.bid = str(p.batch(t)["batchId"])
		park(t, ctx, store, p)
	}
	confirm(t, big)
	big.step = "" // moving
	var before map[string]any
	stacktest.Eventually(t, 3*time.Minute, "the big batch to be moving", func() bool {
		before = obj(big.batch(t)["progress"])
		return num(before["moved"]) > 0
	})
	require.Less(t, num(before["moved"]), num(before["total"]), "the big batch is still moving when the deploy starts")
	t.Logf("parked on %s: %d migrations in the agreement, target and confirmation waits (+1 sibling), 1 batch moving (%v of %v items)",
		prev.Describe, waiting, before["moved"], before["total"])

	// Deploy this build into the running stack.
	sf := stacktest.SFN(s)
	prevDef, err := sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(s.StateMachineARN)})
	require.NoError(t, err)
	deployed := time.Now()
	require.NoError(t, s.Deploy(ctx, stack.DeployOptions{ProjectDir: root, BuildDir: filepath.Join(root, ".build"), Params: params}))
	t.Logf("deployed this build in %s", time.Since(deployed).Round(time.Millisecond))
	for _, p := range all {
		b, err := store.Batch(ctx, p.mid, p.bid)
		require.NoError(t, err)
		assert.NotEmpty(t, b.Tokens[p.step], "%s still parked in its %s wait after the deploy", p.account, p.step)
	}

	// Drive every migration to its end on the new code.
	for _, p := range all {
		switch p.step {
		case migration.StepAgreement:
			accept(t, p)
			fallthrough
		case migration.StepTarget:
			chooseTarget(t, p)
			fallthrough
		case migration.StepConfirmation:
			confirm(t, p)
		}
	}
	arns := map[string]bool{big.arn: true}
	for _, p := range all {
		arns[p.arn] = true
	}
	for arn := range arns {
		out := stacktest.WaitExecution(t, sf, arn, 8*time.Minute)
		assert.Equal(t, sfntypes.ExecutionStatusSucceeded, out.Status, "execution %s: %s %s", arn, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	for _, p := range append(all, big) {
		b := p.batch(t)
		progress := obj(b["progress"])
		assert.Equal(t, "COMMITTED", b["state"], "%s %s", p.account, p.key)
		assert.Equal(t, progress["total"], progress["moved"], "%s %s: every item moved, once", p.account, p.key)
		assert.Positive(t, num(progress["total"]), "%s %s", p.account, p.key)
	}

	// Exactly once, by the table: every item moved by one batch, each batch's
	// moved count its items, one commit per batch in the audit trail.
	recs, err := dynamostore.ScanRecords(ctx, stacktest.DynamoDB(s), s.TableName, 2, s.AuditTableName)
	require.NoError(t, err)
	rep := reconcile.Check(recs.Records, time.Now().UTC())
	assert.True(t, rep.OK(), "reconcile after the upgrade:\n%s", rep.Text())
	failed, err := sf.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.StateMachineARN), StatusFilter: sfntypes.ExecutionStatusFailed})
	require.NoError(t, err)
	assert.Empty(t, failed.Executions, "no execution failed")

	// The executions that were running kept the definition they started
	// with, as on AWS: every function the big one invoked after the deploy
	// is one the previous definition names (the new one names aliases).
	newDef, err := sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(s.StateMachineARN)})
	require.NoError(t, err)
	invoked := invokedAfter(t, sf, big.arn, deployed)
	require.NotEmpty(t, invoked, "the big batch's Move ran after the deploy")
	for _, fn := range invoked {
		assert.Contains(t, aws.ToString(prevDef.Definition), `"`+fn+`"`, "an execution started before the deploy runs its own definition")
	}
	t.Logf("definition changed by the deploy: %v; the running execution invoked %v after it",
		aws.ToString(prevDef.Definition) != aws.ToString(newDef.Definition), invoked)

	// The new code answered: its functions log their release on every line.
	releases := map[string]bool{}
	for _, m := range releaseLine.FindAllStringSubmatch(logs.String(), -1) {
		releases[m[1]] = true
	}
	delete(releases, prev.Describe)
	assert.NotEmpty(t, releases, "after the deploy the functions log this build's release")
	t.Logf("releases after %s: %v; %d migrations (%d batches) committed across the deploy; whole test %s",
		prev.Describe, keys(releases), len(arns), len(all)+1, time.Since(began).Round(time.Second))
}

// invokedAfter lists the functions an execution's Lambda tasks named after
// a time (the launcher keeps the Distributed Map's children's events in the
// parent's history).
func invokedAfter(t *testing.T, sf *sfn.Client, arn string, after time.Time) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	pages := sfn.NewGetExecutionHistoryPaginator(sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		require.NoError(t, err)
		for _, ev := range page.Events {
			if ev.Type != sfntypes.HistoryEventTypeTaskScheduled || aws.ToTime(ev.Timestamp).Before(after) {
				continue
			}
			var params struct{ FunctionName string }
			if json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &params) == nil &&
				params.FunctionName != "" && !seen[params.FunctionName] {
				seen[params.FunctionName] = true
				out = append(out, params.FunctionName)
			}
		}
	}
	return out
}

var releaseLine = regexp.MustCompile(`"release":"([^"]+)"`)

// startMigration starts the account's migration and finds its batch key.
func startMigration(t *testing.T, s *stack.Stack, account, key string) *parked {
	t.Helper()
	dev := stacktest.Developer(t, s, "microapp", account, account+"@example.com")
	res := dev.Do("POST", "/v1/migrations", map[string]any{}, "Idempotency-Key", "start-"+account)
	require.Equal(t, http.StatusAccepted, res.Status, res.Raw)
	return &parked{dev: dev, sf: stacktest.SFN(s), account: account, mid: str(res.Body["migrationId"]), arn: str(res.Body["executionArn"]), key: key}
}

// park takes a migration to its wait and waits until the workflow has parked
// there (its task token is stored), so that the deploy finds it waiting.
func park(t *testing.T, ctx context.Context, store *dynamostore.Store, p *parked) {
	t.Helper()
	steps := map[migration.Step]migration.BatchState{
		migration.StepAgreement: migration.AwaitingAgreement, migration.StepTarget: migration.AwaitingTarget,
		migration.StepConfirmation: migration.AwaitingConfirmation,
	}
	for _, step := range []migration.Step{migration.StepAgreement, migration.StepTarget, migration.StepConfirmation} {
		stacktest.Eventually(t, 2*time.Minute, fmt.Sprintf("%s parked in its %s wait", p.account, step), func() bool {
			b, err := store.Batch(ctx, p.mid, p.bid)
			require.NoError(t, err)
			return b.State == steps[step] && b.Tokens[step] != ""
		})
		if step == p.step {
			return
		}
		map[migration.Step]func(*testing.T, *parked){migration.StepAgreement: accept, migration.StepTarget: chooseTarget}[step](t, p)
	}
}

func (p *parked) base() string { return "/v1/migrations/" + p.mid + "/batches/" + p.bid }

func (p *parked) batch(t *testing.T) map[string]any {
	t.Helper()
	res := p.dev.Do("GET", "/v1/migrations/"+p.mid, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Raw)
	for _, b := range list(res.Body["batches"]) {
		if str(obj(b)["batchKey"]) == p.key {
			return obj(b)
		}
	}
	t.Fatalf("no batch %s in %s", p.key, res.Raw)
	return nil
}

// execution says how the batch and its migration's execution stand, for a
// failure message (a batch's branch can fail while its execution succeeds:
// the Map tolerates every failed branch).
func (p *parked) execution(t *testing.T) string {
	t.Helper()
	b := p.batch(t)
	errJSON, _ := json.Marshal(b["error"])
	out, err := p.sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(p.arn)})
	if err != nil {
		return fmt.Sprintf("batch %v (error %s); execution: %v", b["state"], errJSON, err)
	}
	return fmt.Sprintf("batch %v (error %s); execution %s %s %s", b["state"], errJSON, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
}

func accept(t *testing.T, p *parked) {
	t.Helper()
	ag := p.dev.Do("GET", "/v1/agreement", nil)
	require.Equal(t, http.StatusOK, ag.Status, ag.Raw)
	res := p.dev.Do("POST", p.base()+"/agreement", map[string]any{"version": ag.Body["version"], "sha256": ag.Body["sha256"]})
	require.Equal(t, http.StatusOK, res.Status, "%s agreement: %s; %s", p.account, res.Raw, p.execution(t))
}

func chooseTarget(t *testing.T, p *parked) {
	t.Helper()
	res := p.dev.Do("PUT", p.base()+"/target", map[string]any{"mode": "new"})
	require.Equal(t, http.StatusOK, res.Status, "%s target: %s; %s", p.account, res.Raw, p.execution(t))
}

func confirm(t *testing.T, p *parked) {
	t.Helper()
	res := p.dev.Do("POST", p.base()+"/commit", map[string]any{"confirm": true}, "Idempotency-Key", "commit-"+p.bid)
	require.Equal(t, http.StatusAccepted, res.Status, "%s commit: %s; %s", p.account, res.Raw, p.execution(t))
}

// snapshot holds the waiting accounts (one mini-program each) and the big
// account: bigApps web apps with a data set and an order each under one
// subject, and one mini-program under another (its sibling batch).
func snapshot(t *testing.T) []byte {
	t.Helper()
	var subjects, apps, data, orders, accounts []map[string]any
	subject := func(id string) {
		subjects = append(subjects, map[string]any{"id": id, "name": "Co. " + id, "kind": "company", "certified": true})
	}
	app := func(id, kind, owner, subj string) {
		apps = append(apps, map[string]any{"id": id, "platform": "microapp", "kind": kind, "name": "App " + id,
			"creatorAccountId": owner, "subjectId": subj, "certified": true})
	}
	for i := range waiting {
		acct, subj := fmt.Sprintf("ma-w%02d", i), fmt.Sprintf("subj-w%02d", i)
		subject(subj)
		app("app-"+acct, "miniprogram", acct, subj)
		accounts = append(accounts, map[string]any{"platform": "microapp", "id": acct, "login": acct + "@example.com", "subjectId": subj})
	}
	subject("subj-big")
	subject("subj-sib")
	for i := range bigApps {
		id := fmt.Sprintf("web-%04d", i)
		app(id, "web_app", "ma-big", "subj-big")
		data = append(data, map[string]any{"id": "ds-" + id, "assetId": id, "kind": "analytics"})
		orders = append(orders, map[string]any{"id": "ord-" + id, "assetId": id, "amountCents": 100, "currency": "CNY", "status": "paid"})
	}
	app("app-sib", "miniprogram", "ma-big", "subj-sib")
	accounts = append(accounts, map[string]any{"platform": "microapp", "id": "ma-big", "login": "ma-big@example.com", "subjectId": "subj-big"})
	b, err := json.Marshal(map[string]any{"version": 1, "subjects": subjects, "apps": apps, "data": data, "orders": orders, "accounts": accounts})
	require.NoError(t, err)
	return b
}

func str(v any) string         { s, _ := v.(string); return s }
func list(v any) []any         { l, _ := v.([]any); return l }
func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func num(v any) float64        { f, _ := v.(float64); return f }
func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}
