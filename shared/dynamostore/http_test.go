package dynamostore_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/httpapi"
	"github.com/devplatform/account-migration/shared/migration"
)

// The HTTP edge over the real store (moto): idempotency keys, ops tokens.

// countingStore counts the Starts that run: each claims the account once
// (Begin with a fresh id, as every Start of an account with assets has).
type countingStore struct {
	*dynamostore.Store
	claims         atomic.Int32
	panicOnAccount atomic.Bool // a request that crashes mid-way
}

func (c *countingStore) CreateMigration(ctx context.Context, m migration.Migration, bs []migration.Batch, ev migration.AuditEvent) (string, error) {
	c.claims.Add(1)
	return c.Store.CreateMigration(ctx, m, bs, ev)
}

func (c *countingStore) SourceAccount(ctx context.Context, ref migration.AccountRef) (migration.Account, error) {
	if c.panicOnAccount.CompareAndSwap(true, false) {
		panic("injected crash")
	}
	return c.Store.SourceAccount(ctx, ref)
}

func (e *env) api(t *testing.T) (*httpapi.API, *countingStore) {
	t.Helper()
	cs := &countingStore{Store: e.store}
	e.m.Store = cs
	return &httpapi.API{Migrator: e.m, Idempotency: e.store, Ops: e.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, cs
}

type call struct {
	route, path string
	params      map[string]string
	body, key   string
	claims      map[string]string
	query       map[string]string // query string parameters
	headers     map[string]string // more request headers
}

func asAlice(route, path, body, key string, params ...string) call {
	c := call{route: route, path: path, body: body, key: key, params: map[string]string{},
		claims: map[string]string{"sub": alice.ID, "platform": alice.Platform, "login": "alice@example.com", "scope": httpapi.DeveloperScope}}
	for i := 0; i+1 < len(params); i += 2 {
		c.params[params[i]] = params[i+1]
	}
	return c
}

func (c call) do(t *testing.T, a *httpapi.API) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RouteKey: c.route, RawPath: c.path, Headers: map[string]string{}, PathParameters: c.params, Body: c.body,
		QueryStringParameters: c.query}
	for k, v := range c.headers {
		ev.Headers[k] = v
	}
	ev.RequestContext.RequestID = "req-" + time.Now().Format("150405.000000000")
	if c.body != "" {
		ev.Headers["content-type"] = "application/json"
	}
	if c.key != "" {
		ev.Headers["Idempotency-Key"] = c.key
	}
	if c.claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c.claims}}
	}
	res, err := a.Handle(context.Background(), ev)
	require.NoError(t, err)
	return res
}

func errCode(t *testing.T, res events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &body), res.Body)
	return body.Error.Code
}

func commitCall(b migration.Batch, body, key string) call {
	return asAlice("POST /v1/migrations/{migrationId}/batches/{batchId}/commit", "/v1/migrations/"+b.MigrationID+"/batches/"+b.BatchID+"/commit",
		body, key, "migrationId", b.MigrationID, "batchId", b.BatchID)
}

// Item 4: a replayed refusal is that refusal (422 stays 422, 409 stays 409),
// and the key stays bound to its request after an error.
func TestIdempotentReplayKeepsRefusals(t *testing.T) {
	snap := newFixture().subject("subj-p", migration.SubjectPerson).subject("subj-a", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-p").
		miniprograms("microapp", "ma-1", "subj-p", "p", 6).
		miniprograms("microapp", "ma-1", "subj-a", "a", 1).build(t)
	e := newEnv(t, snap)
	a, _ := e.api(t)

	over := e.readyBatch(t, alice, "subj-p/developer", migration.Target{Mode: migration.TargetModeNew})
	first := commitCall(over, `{"confirm":true}`, "commit-1").do(t, a)
	require.Equal(t, http.StatusUnprocessableEntity, first.StatusCode, first.Body)
	assert.Equal(t, "QUOTA_EXCEEDED", errCode(t, first))
	replay := commitCall(over, `{ "confirm" : true }`, "commit-1").do(t, a)
	assert.Equal(t, http.StatusUnprocessableEntity, replay.StatusCode, "a replayed 422 stays 422: %s", replay.Body)
	assert.Equal(t, first.Body, replay.Body, "byte for byte")
	assert.Equal(t, "true", replay.Headers["idempotent-replayed"])

	reused := commitCall(over, `{"confirm":false}`, "commit-1").do(t, a)
	assert.Equal(t, http.StatusUnprocessableEntity, reused.StatusCode, reused.Body)
	assert.Equal(t, "IDEMPOTENCY_KEY_REUSED", errCode(t, reused), "another body after an error does not run")
	elsewhere := asAlice("POST /v1/migrations", "/v1/migrations", "", "commit-1").do(t, a)
	assert.Equal(t, "IDEMPOTENCY_KEY_REUSED", errCode(t, elsewhere), "nor does another route")

	// 409: committing before the agreement; after agreement and target the
	// same key still answers that 409 (a new attempt takes a new key).
	_, err := e.m.Summarize(e.ctx, over.MigrationID) // frees the account for a second migration
	require.NoError(t, err)
	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: migration.NewMigrationID(), Source: alice, RequestedBy: "test", BatchKeys: []string{"subj-a/developer"}})
	require.NoError(t, err)
	early := migration.Batch{MigrationID: res.MigrationID, BatchID: res.BatchIDs[0]}
	wrong := commitCall(early, `{"confirm":true}`, "commit-2").do(t, a)
	require.Equal(t, http.StatusConflict, wrong.StatusCode, wrong.Body)
	ag, err := e.m.ViewAgreement(e.ctx, alice, migration.RequestMeta{})
	require.NoError(t, err)
	_, err = e.m.AcceptAgreement(e.ctx, alice, early.MigrationID, early.BatchID, ag.Version, ag.SHA256, migration.RequestMeta{})
	require.NoError(t, err)
	_, err = e.m.SelectTarget(e.ctx, alice, early.MigrationID, early.BatchID, migration.Target{Mode: migration.TargetModeNew})
	require.NoError(t, err)
	again := commitCall(early, `{"confirm":true}`, "commit-2").do(t, a)
	assert.Equal(t, http.StatusConflict, again.StatusCode, "a replayed 409 stays 409: %s", again.Body)
	assert.Equal(t, wrong.Body, again.Body)
	got, err := e.store.Batch(e.ctx, early.MigrationID, early.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingConfirmation, got.State, "the replay ran nothing")

	// A 400 is the key's answer too: the corrected request takes a new key
	// (TestIdempotencyKeyStaysBoundAfterBadRequest).
	bad := commitCall(early, `{"confirm":false}`, "commit-3").do(t, a)
	require.Equal(t, http.StatusBadRequest, bad.StatusCode, bad.Body)
	reusedAfter400 := commitCall(early, `{"confirm":true}`, "commit-3").do(t, a)
	assert.Equal(t, "IDEMPOTENCY_KEY_REUSED", errCode(t, reusedAfter400))
	fixed := commitCall(early, `{"confirm":true}`, "commit-4").do(t, a)
	assert.Equal(t, http.StatusAccepted, fixed.StatusCode, fixed.Body)
}

// Item 4: twenty POSTs at once with one key and one body run the use case
// once and all get the same answer.
func TestIdempotentConcurrentSameKeyRunsOnce(t *testing.T) {
	snap := aliceApps(2).build(t)
	e := newEnv(t, snap)
	a, cs := e.api(t)
	out := make([]events.APIGatewayV2HTTPResponse, 20)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out[i] = asAlice("POST /v1/migrations", "/v1/migrations", `{}`, "start-1").do(t, a)
		}(i)
	}
	wg.Wait()
	assert.EqualValues(t, 1, cs.claims.Load(), "the handler ran once")
	fresh := 0
	for i, res := range out {
		assert.Equal(t, http.StatusAccepted, res.StatusCode, "answer %d: %s", i, res.Body)
		assert.Equal(t, out[0].Body, res.Body, "answer %d", i)
		if res.Headers["idempotent-replayed"] == "" {
			fresh++
		}
	}
	assert.Equal(t, 1, fresh, "one answer ran, the others are replays")
}

// Item 4: one key, different bodies, at once: exactly one runs; the others
// are refused (422) or replay the winner's answer if they are its twins.
func TestIdempotentConcurrentDifferentBodiesRunOne(t *testing.T) {
	snap := newFixture().subject("subj-a", migration.SubjectCompany).subject("subj-b", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").
		miniprograms("microapp", "ma-1", "subj-a", "a", 1).
		miniprograms("microapp", "ma-1", "subj-b", "b", 1).build(t)
	e := newEnv(t, snap)
	a, cs := e.api(t)
	bodies := []string{`{}`, `{"batchKeys":["subj-a/developer"]}`, `{"batchKeys":["subj-b/developer"]}`}
	out := make([]events.APIGatewayV2HTTPResponse, 12)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out[i] = asAlice("POST /v1/migrations", "/v1/migrations", bodies[i%len(bodies)], "start-x").do(t, a)
		}(i)
	}
	wg.Wait()
	assert.EqualValues(t, 1, cs.claims.Load(), "exactly one request ran")
	var winner string
	refused := 0
	for i, res := range out {
		switch res.StatusCode {
		case http.StatusAccepted:
			if winner == "" {
				winner = res.Body
			}
			assert.Equal(t, winner, res.Body, "answer %d", i)
		case http.StatusUnprocessableEntity, http.StatusConflict:
			assert.Contains(t, []string{"IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_IN_USE"}, errCode(t, res))
			refused++
		default:
			t.Errorf("answer %d: %d %s", i, res.StatusCode, res.Body)
		}
	}
	assert.GreaterOrEqual(t, refused, 8, "every request with another body is refused")
}

// Item 4: a request that crashed holding the key blocks it only for its
// lease; then the same request runs, and another one is still refused.
func TestIdempotentCrashedClaimIsTakenOver(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	a, cs := e.api(t)
	a.IdempotencyLease, a.IdempotencyWait = 2*time.Second, 100*time.Millisecond
	start := asAlice("POST /v1/migrations", "/v1/migrations", `{}`, "start-crash")

	cs.panicOnAccount.Store(true)
	crashedAt := time.Now()
	require.Panics(t, func() { start.do(t, a) }, "the first request dies mid-way")
	if time.Since(crashedAt) < a.IdempotencyLease-200*time.Millisecond {
		busy := start.do(t, a)
		assert.Equal(t, http.StatusConflict, busy.StatusCode, busy.Body)
		assert.Equal(t, "IDEMPOTENCY_KEY_IN_USE", errCode(t, busy), "within the lease the claim holds")
	}
	other := asAlice("POST /v1/migrations", "/v1/migrations", `{"batchKeys":["subj-a/developer"]}`, "start-crash").do(t, a)
	assert.Equal(t, "IDEMPOTENCY_KEY_REUSED", errCode(t, other))

	var res events.APIGatewayV2HTTPResponse
	require.Eventually(t, func() bool {
		res = start.do(t, a)
		return res.StatusCode != http.StatusConflict
	}, 10*time.Second, 200*time.Millisecond, "the crashed claim is taken over after its lease")
	assert.Equal(t, http.StatusAccepted, res.StatusCode, res.Body)
	assert.Empty(t, res.Headers["idempotent-replayed"])
	assert.Equal(t, res.Body, start.do(t, a).Body, "and its answer is kept")
}

// Item 15(d): an ops token carries the scope, not an old-platform account.
func TestOpsTokenNeedsNoOldPlatformClaims(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	a, _ := e.api(t)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	ops := call{route: "GET /v1/ops/accounts/{platform}/{accountId}/migration", path: "/v1/ops/accounts/microapp/ma-1/migration",
		params: map[string]string{"platform": "microapp", "accountId": "ma-1"},
		claims: map[string]string{"sub": "ops-bob@corp.example", "scope": "openid migration:ops"}}
	res := ops.do(t, a)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Contains(t, res.Body, `"migrationId":"`+b.MigrationID+`"`)

	ops.claims = map[string]string{"sub": "ops-bob@corp.example", "scope": "openid"}
	assert.Equal(t, http.StatusForbidden, ops.do(t, a).StatusCode, "the scope is still required")
	dev := asAlice("GET /v1/assets", "/v1/assets", "", "")
	dev.claims = map[string]string{"sub": "ops-bob@corp.example", "scope": "migration:ops"}
	assert.Equal(t, http.StatusUnauthorized, dev.do(t, a).StatusCode, "developer routes still need the old-platform account")
}

var errStartFailed = errors.New("states: service unavailable (injected)")

// countingStarter counts StartExecution calls; it fails while fail is set.
type countingStarter struct {
	calls atomic.Int32
	fail  atomic.Bool
}

func (c *countingStarter) StartExecution(_ context.Context, name string, _ any) (string, error) {
	c.calls.Add(1)
	if c.fail.Load() {
		return "", errStartFailed
	}
	return "arn:aws:states:us-east-1:123456789012:execution:MigrationStateMachine:" + strings.ToLower(name), nil
}

// Item 4: a transient failure (503) is not kept: the same request runs again
// under its key, while another request stays refused (a part may have run).
func TestIdempotentTransientErrorIsNotKept(t *testing.T) {
	snap := aliceApps(1).build(t)
	e := newEnv(t, snap)
	a, _ := e.api(t)
	st := &countingStarter{}
	st.fail.Store(true)
	e.m.Starter = st
	start := asAlice("POST /v1/migrations", "/v1/migrations", `{}`, "start-503")
	down := start.do(t, a)
	require.Equal(t, http.StatusServiceUnavailable, down.StatusCode, down.Body)
	other := asAlice("POST /v1/migrations", "/v1/migrations", `{"batchKeys":["subj-a/developer"]}`, "start-503").do(t, a)
	assert.Equal(t, "IDEMPOTENCY_KEY_REUSED", errCode(t, other))

	st.fail.Store(false)
	up := start.do(t, a)
	assert.Equal(t, http.StatusOK, up.StatusCode, "the retry ran and found the migration the first attempt wrote: %s", up.Body)
	assert.Empty(t, up.Headers["idempotent-replayed"])
	assert.EqualValues(t, 2, st.calls.Load())
}
