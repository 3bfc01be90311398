package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/devplatform/account-migration/shared/httpapi"
	"github.com/devplatform/account-migration/shared/migration"
)

// ---- calling a use case the way the workflow and a developer's client do ----------

// caller runs use-case calls with retries and kills. A retried step is the
// same use case called again after an error, as the state machine's Retry
// (and a developer clicking again) does it. A killed call is a Lambda that
// died mid-step: its context is cancelled at a random moment, whatever it was
// doing (between store calls or with a request in flight), and whatever it
// would have answered is lost, success included.
type caller struct {
	killRate    float64
	maxAttempts int
	tally       *tally
}

// do calls fn until it succeeds or gives a coded business answer (returned).
// Transient failures (UNAVAILABLE, INTERNAL or uncoded) and kills are retried.
func (c *caller) do(ctx context.Context, rng *rand.Rand, op string, fn func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var killed atomic.Bool
		var timer *time.Timer
		if rng.Float64() < c.killRate {
			timer = time.AfterFunc(time.Duration(rng.IntN(12000))*time.Microsecond, func() { killed.Store(true); cancel() })
		}
		err := fn(actx)
		if timer != nil {
			timer.Stop()
		}
		cancel()
		if killed.Load() {
			c.tally.count("kill", op)
			continue
		}
		if err == nil {
			return nil
		}
		code := migration.ErrorCode(err)
		if code != migration.CodeUnavailable && code != migration.CodeInternal {
			return err
		}
		c.tally.transient(op, code, err)
		if attempt >= c.maxAttempts {
			c.tally.unexpected("%s gave up after %d attempts: %v", op, attempt, err)
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(time.Duration(1+rng.IntN(4*min(attempt, 5))) * time.Millisecond)
	}
}

// ---- what happened ------------------------------------------------------------------

// tally counts what the drivers did and saw; safe for concurrent use.
type tally struct {
	mu          sync.Mutex
	migrations  int
	restarts    int
	ended       map[migration.BatchState]int
	failedBy    map[migration.Code]int
	events      map[string]int            // "kill Move", "race confirm-expire", ...
	transients  map[string]map[string]int // op -> code -> n
	samples     map[string]string         // op/code -> one error text, for the report
	business    map[string]int            // "Confirm QUOTA_EXCEEDED" -> n
	unexpecteds []string
}

func newTally() *tally {
	return &tally{ended: map[migration.BatchState]int{}, failedBy: map[migration.Code]int{}, events: map[string]int{},
		transients: map[string]map[string]int{}, samples: map[string]string{}, business: map[string]int{}}
}

func (t *tally) count(what, op string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events[what+" "+op]++
}

func (t *tally) transient(op string, code migration.Code, err error) {
	label := string(code)
	if code == migration.CodeInternal {
		label += "/" + internalCause(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.transients[op] == nil {
		t.transients[op] = map[string]int{}
	}
	t.transients[op][label]++
	k := op + "/" + label
	if _, ok := t.samples[k]; !ok {
		t.samples[k] = truncate(err.Error(), 300)
	}
}

func (t *tally) answer(op string, err error, expected ...migration.Code) {
	code := migration.ErrorCode(err)
	for _, c := range expected {
		if c == code {
			t.mu.Lock()
			t.business[op+" "+string(code)]++
			t.mu.Unlock()
			return
		}
	}
	t.unexpected("%s answered %v", op, err)
}

func (t *tally) unexpected(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.unexpecteds = append(t.unexpecteds, fmt.Sprintf(format, args...))
}

func (t *tally) batchEnded(b migration.Batch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended[b.State]++
	if b.State == migration.Failed && b.Error != nil {
		t.failedBy[b.Error.Code]++
	}
}

func (t *tally) migrationCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.migrations
}

func (t *tally) kills() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for k, v := range t.events {
		if strings.HasPrefix(k, "kill ") {
			n += v
		}
	}
	return n
}

// internalCause sorts an INTERNAL answer by what caused it.
func internalCause(err error) string {
	var tce *types.TransactionCanceledException
	var send *smithyhttp.RequestSendError
	switch {
	case errors.As(err, &tce):
		return "transaction-cancelled"
	case errors.As(err, &send):
		return "connection"
	}
	return "other"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ---- one developer ------------------------------------------------------------------

// developer drives one old-platform account's migration through the use
// cases, deciding at random (from its own seeded RNG) what to do at each
// step: accept, choose an existing or new target, change it, click confirm
// several times at once, let a step expire (sometimes exactly while acting),
// have the workflow fail a batch, run several movers at once, and start again
// after an expiry.
type developer struct {
	m     *migration.Migrator
	store migration.Store
	acct  plannedAccount
	c     *caller
	t     *tally
	// edge: the HTTP API over m, for confirmations sent as a client sends them.
	edge *httpapi.API
	// committed is called each time one of the account's batches is seen
	// COMMITTED (the soak re-imports the round's snapshot then).
	committed func(ctx context.Context)
}

// opsAgreement is what ops record for an ops account's migration.
func opsAgreement() *migration.OpsInstructions {
	return &migration.OpsInstructions{Agreement: &migration.OpsAgreement{Version: migration.CurrentAgreement().Version,
		AcceptedBy: "support@example.com", Evidence: "signed paper form, ticket SOAK-1"}}
}

var meta = migration.RequestMeta{SourceIP: "198.51.100.7", UserAgent: "soak"}

func child(rng *rand.Rand) *rand.Rand { return rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())) }

func (d *developer) run(ctx context.Context, rng *rand.Rand) {
	src := d.acct.ref
	for attempt := 0; attempt < 2; attempt++ {
		id := fmt.Sprintf("m-%s-%d", src.ID, attempt)
		var res migration.BeginResult
		err := d.c.do(ctx, rng, "Begin", func(ctx context.Context) (err error) {
			in := migration.BeginInput{MigrationID: id, Source: src, RequestedBy: "developer:" + src.String()}
			if d.acct.ops {
				in.Ops, in.RequestedBy = opsAgreement(), "ops:soak"
			}
			res, err = d.m.Begin(ctx, in)
			return err
		})
		if err != nil {
			d.t.answer("Begin", err)
			return
		}
		if res.ActiveMigrationID != "" {
			d.t.unexpected("%s: migration %s still active after the last one ended", src, res.ActiveMigrationID)
			return
		}
		if !res.Eligible {
			d.summarize(ctx, rng, id)
			return // nothing left to move (everything committed or skipped)
		}
		if len(res.BatchIDs) > 10 {
			d.t.count("path", "wide-migrations") // more batches than the old Map limit
			d.t.countN("path wide-batches", len(res.BatchIDs))
		}
		d.t.mu.Lock()
		d.t.migrations++
		if attempt > 0 {
			d.t.restarts++
		}
		d.t.mu.Unlock()

		ended := make([]migration.BatchState, len(res.BatchIDs))
		var wg sync.WaitGroup
		for i, batchID := range res.BatchIDs {
			f, brng := drawFate(rng), child(rng)
			f.edge = f.edge || d.acct.edge
			run := func() { ended[i] = d.batch(ctx, brng, id, batchID, f) }
			if rng.Float64() < 0.3 {
				wg.Add(1)
				go func() { defer wg.Done(); run() }()
			} else {
				run()
			}
		}
		wg.Wait()
		d.summarize(ctx, rng, id)
		again := false
		for _, s := range ended {
			again = again || s == migration.Expired
		}
		if !again || rng.Float64() < 0.4 {
			return
		}
	}
}

func (d *developer) summarize(ctx context.Context, rng *rand.Rand, id string) {
	var sum migration.Summary
	err := d.c.do(ctx, rng, "Summarize", func(ctx context.Context) (err error) {
		sum, err = d.m.Summarize(ctx, id)
		return err
	})
	if err != nil {
		d.t.answer("Summarize", err)
		return
	}
	if sum.State == migration.MigrationInProgress {
		d.t.unexpected("migration %s still in progress after every batch ended", id)
	}
}

// fate is what the developer (and the workflow around them) will do to one batch.
type fate struct {
	expireAt     migration.BatchState // the wait that times out, if any
	raceExpiry   bool                 // the timeout fires while the developer acts
	failAt       migration.BatchState // the workflow fails the batch at this wait
	clicks       int                  // concurrent confirmations
	movers       int                  // concurrent movers
	changeTarget bool                 // choose a target, then another one
	chunkPerRun  bool                 // each mover run stops after one chunk
	edge         bool                 // confirmations go through the HTTP edge, with an Idempotency-Key
}

func drawFate(rng *rand.Rand) fate {
	waits := []migration.BatchState{migration.AwaitingAgreement, migration.AwaitingTarget, migration.AwaitingConfirmation}
	f := fate{clicks: 1, movers: 1}
	switch x := rng.Float64(); {
	case x < 0.12:
		f.expireAt = waits[rng.IntN(3)]
		f.raceExpiry = rng.IntN(2) == 0
	case x < 0.16:
		f.failAt = waits[rng.IntN(3)]
	}
	if rng.Float64() < 0.25 {
		f.clicks = 2 + rng.IntN(3)
	}
	if rng.Float64() < 0.25 {
		f.movers = 2 + rng.IntN(2)
	}
	f.changeTarget = rng.Float64() < 0.15
	f.chunkPerRun = rng.Float64() < 0.3
	f.edge = rng.Float64() < 0.5
	return f
}

// batch drives one batch until it ends, acting on the state it last saw: the
// batch a use case answered with, or (after a failure or a race, when the
// outcome is unknown) the batch read again, so any outcome of a faulted step
// is picked up where it left off.
func (d *developer) batch(ctx context.Context, rng *rand.Rand, migrationID, batchID string, f fate) migration.BatchState {
	tried := map[string]bool{}
	changed, raced := false, false
	var known *migration.Batch
	for step := 0; step < 60; step++ {
		var b migration.Batch
		if known != nil {
			b, known = *known, nil
		} else if err := d.c.do(ctx, rng, "Batch", func(ctx context.Context) (err error) {
			b, err = d.store.Batch(ctx, migrationID, batchID)
			return err
		}); err != nil {
			d.t.answer("Batch", err)
			return ""
		}
		switch {
		case b.State.Final():
			d.t.batchEnded(b)
			if b.State == migration.Committed && d.committed != nil {
				d.committed(ctx)
			}
			return b.State
		case b.State == migration.Committing:
			d.move(ctx, rng, b, f)
		case f.failAt == b.State:
			known = d.end(ctx, rng, "Fail", func(ctx context.Context) (migration.Batch, error) {
				return d.m.Fail(ctx, migrationID, batchID, migration.CodeInternal, "the workflow failed this batch")
			})
		case f.expireAt == b.State:
			expire := func(rng *rand.Rand) *migration.Batch {
				return d.end(ctx, rng, "Expire", func(ctx context.Context) (migration.Batch, error) { return d.m.Expire(ctx, migrationID, batchID) })
			}
			if !f.raceExpiry {
				known = expire(rng)
				continue
			}
			d.t.count("race", "expire-vs-"+string(b.State))
			var wg sync.WaitGroup
			erng := child(rng)
			wg.Add(1)
			go func() { defer wg.Done(); expire(erng) }()
			d.act(ctx, rng, b, f, tried, &changed)
			wg.Wait()
		case d.acct.ops && b.State == migration.AwaitingAgreement && !raced:
			raced = true
			d.raceOps(ctx, rng, b)
		default:
			known = d.act(ctx, rng, b, f, tried, &changed)
		}
	}
	d.t.unexpected("batch %s/%s did not end in 60 steps", migrationID, batchID)
	return ""
}

// end is the workflow's Expire or FailBatch step: WRONG_STEP means the batch
// already passed the point of no return or ended, and is ignored as the
// workflow ignores it.
func (d *developer) end(ctx context.Context, rng *rand.Rand, op string, fn func(ctx context.Context) (migration.Batch, error)) *migration.Batch {
	var b migration.Batch
	err := d.c.do(ctx, rng, op, func(ctx context.Context) (err error) {
		b, err = fn(ctx)
		return err
	})
	if err != nil {
		d.t.answer(op, err, migration.CodeWrongStep)
		return nil
	}
	return &b
}

func (d *developer) viewAgreement(ctx context.Context, rng *rand.Rand) (migration.Agreement, bool) {
	var a migration.Agreement
	if err := d.c.do(ctx, rng, "ViewAgreement", func(ctx context.Context) (err error) {
		a, err = d.m.ViewAgreement(ctx, d.acct.ref, meta)
		return err
	}); err != nil {
		d.t.answer("ViewAgreement", err)
		return a, false
	}
	return a, true
}

// acceptAgreement returns the batch as accepted, or nil when it was not.
func (d *developer) acceptAgreement(ctx context.Context, rng *rand.Rand, b migration.Batch, a migration.Agreement) *migration.Batch {
	var out migration.Batch
	err := d.c.do(ctx, rng, "AcceptAgreement", func(ctx context.Context) (err error) {
		out, err = d.m.AcceptAgreement(ctx, d.acct.ref, b.MigrationID, b.BatchID, a.Version, a.SHA256, meta)
		return err
	})
	if err != nil {
		d.t.answer("AcceptAgreement", err, migration.CodeWrongStep)
		return nil
	}
	return &out
}

// act takes the developer's next step on a waiting batch. It returns the batch
// as the use case answered it, or nil when the outcome must be read again.
func (d *developer) act(ctx context.Context, rng *rand.Rand, b migration.Batch, f fate, tried map[string]bool, changed *bool) *migration.Batch {
	src := d.acct.ref
	var out migration.Batch
	switch {
	case b.State == migration.AwaitingAgreement:
		a, ok := d.viewAgreement(ctx, rng)
		if !ok {
			return nil
		}
		return d.acceptAgreement(ctx, rng, b, a)
	case b.State == migration.AwaitingTarget || (b.State == migration.AwaitingConfirmation && f.changeTarget && !*changed):
		if b.State == migration.AwaitingConfirmation {
			*changed = true
		}
		t := migration.Target{Mode: migration.TargetModeNew}
		var open []string
		for _, id := range d.acct.existing[b.TargetPlatform] {
			if !tried[id] && id != b.TargetAccountID {
				open = append(open, id)
			}
		}
		if len(open) > 0 && rng.Float64() < 0.7 {
			t = migration.Target{Mode: migration.TargetModeExisting, AccountID: open[rng.IntN(len(open))]}
		}
		err := d.c.do(ctx, rng, "SelectTarget", func(ctx context.Context) (err error) {
			out, err = d.m.SelectTarget(ctx, src, b.MigrationID, b.BatchID, t)
			return err
		})
		if err != nil {
			tried[t.AccountID] = true
			d.t.answer("SelectTarget", err, migration.CodeTargetNotEligible, migration.CodeWrongStep)
			return nil
		}
		return &out
	case b.State == migration.AwaitingConfirmation:
		if f.clicks > 1 {
			d.t.count("race", "confirm-clicks")
		}
		var wg sync.WaitGroup
		for i := 0; i < f.clicks; i++ {
			wg.Add(1)
			crng := child(rng)
			go func() {
				defer wg.Done()
				var err error
				if f.edge {
					err = d.confirmEdge(ctx, crng, b)
				} else {
					err = d.c.do(ctx, crng, "Confirm", func(ctx context.Context) error {
						_, err := d.m.Confirm(ctx, src, b.MigrationID, b.BatchID)
						return err
					})
				}
				if err != nil {
					d.t.answer("Confirm", err, migration.CodeQuotaExceeded, migration.CodeTargetNotEligible, migration.CodeWrongStep)
				}
			}()
		}
		wg.Wait()
	}
	return nil
}

// move runs the commit's mover until the batch is COMMITTED; several movers
// at once when the fate says so (a retried Lambda while the first still runs).
func (d *developer) move(ctx context.Context, rng *rand.Rand, b migration.Batch, f fate) {
	if f.movers > 1 {
		d.t.count("race", "movers")
	}
	var wg sync.WaitGroup
	for i := 0; i < f.movers; i++ {
		wg.Add(1)
		mrng := child(rng)
		go func() {
			defer wg.Done()
			for run := 0; run < 500; run++ {
				until := time.Time{}
				if f.chunkPerRun {
					until = time.Now() // the Lambda's time is up after each chunk
				}
				var p migration.Progress
				if err := d.c.do(ctx, mrng, "Move", func(ctx context.Context) (err error) {
					p, err = d.m.Move(ctx, b.MigrationID, b.BatchID, until)
					return err
				}); err != nil {
					// The workflow's Move step retries StepFailed too, which is
					// what a WRONG_STEP becomes at the Lambda boundary.
					d.t.answer("Move", err, migration.CodeWrongStep)
					continue
				}
				if p.Done {
					return
				}
			}
			d.t.unexpected("batch %s/%s not moved after 500 runs", b.MigrationID, b.BatchID)
		}()
	}
	wg.Wait()
}

func (t *tally) countN(what string, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events[what] += n
}

// ---- the new paths: ops acceptances racing the developer, the HTTP edge ---------

// raceOps races the workflow's agreement wait, which applies the agreement ops
// recorded in the execution input, against the developer's own acceptance:
// both must succeed, and the batch records one acceptance (the check counts
// the AGREEMENT_ACCEPTED events of every batch).
func (d *developer) raceOps(ctx context.Context, rng *rand.Rand, b migration.Batch) {
	a, ok := d.viewAgreement(ctx, rng)
	if !ok {
		return
	}
	d.t.count("path", "ops-races")
	var wg sync.WaitGroup
	var awaitErr error
	wrng := child(rng)
	// The developer has viewed the agreement: the two acceptances race. The
	// developer's takes four reads before its write, the wait's two, so the
	// wait starts at once or up to 40 ms later: either one may record it.
	head := time.Duration(0)
	if wrng.IntN(2) == 0 {
		head = time.Duration(wrng.IntN(40000)) * time.Microsecond
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(head)
		awaitErr = d.c.do(ctx, wrng, "Await", func(ctx context.Context) error {
			_, err := d.m.Await(ctx, b.MigrationID, b.BatchID, migration.StepAgreement, "agreement-wait-"+b.BatchID)
			return err
		})
	}()
	accepted := d.acceptAgreement(ctx, rng, b, a)
	wg.Wait()
	if awaitErr != nil {
		d.t.unexpected("ops agreement of %s/%s racing the developer: %v", b.MigrationID, b.BatchID, awaitErr)
	}
	if accepted == nil {
		d.t.unexpected("developer's acceptance of %s/%s racing ops did not succeed", b.MigrationID, b.BatchID)
		return
	}
	winner := "developer"
	if accepted.Agreement != nil && strings.HasPrefix(accepted.Agreement.Channel, "ops") {
		winner = "ops"
	}
	d.t.count("path", "ops-races-won-by-"+winner)
}

// confirmEdge confirms as a client does: POST .../commit with an
// Idempotency-Key, sent again with the same key after a transient answer or a
// kill. A refusal (422 QUOTA_EXCEEDED) is then replayed with that key.
func (d *developer) confirmEdge(ctx context.Context, rng *rand.Rand, b migration.Batch) error {
	d.t.count("path", "edge-commits")
	ev := d.commitRequest(b, fmt.Sprintf("commit-%016x", rng.Uint64()))
	var last events.APIGatewayV2HTTPResponse
	err := d.c.do(ctx, rng, "Commit", func(ctx context.Context) error {
		res, err := d.edge.Handle(ctx, ev)
		if err != nil {
			return err
		}
		last = res
		return edgeError(res)
	})
	if migration.ErrorCode(err) == migration.CodeQuotaExceeded {
		d.replayRefusal(ctx, ev, last)
	}
	return err
}

// replayRefusal sends a refused request again: the answer must be the
// refusal, byte for byte, marked as a replay, with nothing run again.
func (d *developer) replayRefusal(ctx context.Context, ev events.APIGatewayV2HTTPRequest, first events.APIGatewayV2HTTPResponse) {
	again, err := d.edge.Handle(ctx, ev)
	switch {
	case err != nil:
		d.t.unexpected("replaying refused commit %s: %v", ev.RawPath, err)
	case again.StatusCode != first.StatusCode || again.Body != first.Body || again.Headers["idempotent-replayed"] != "true":
		d.t.unexpected("replayed refusal of %s answered %d %s (replayed=%q), first %d %s",
			ev.RawPath, again.StatusCode, again.Body, again.Headers["idempotent-replayed"], first.StatusCode, first.Body)
	default:
		d.t.count("path", "replayed-refusals")
	}
}

func (d *developer) commitRequest(b migration.Batch, key string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "POST /v1/migrations/{migrationId}/batches/{batchId}/commit",
		RawPath:        "/v1/migrations/" + b.MigrationID + "/batches/" + b.BatchID + "/commit",
		Headers:        map[string]string{"content-type": "application/json", "Idempotency-Key": key},
		PathParameters: map[string]string{"migrationId": b.MigrationID, "batchId": b.BatchID}, Body: `{"confirm":true}`}
	ev.RequestContext.RequestID = key
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: map[string]string{"sub": d.acct.ref.ID, "platform": d.acct.ref.Platform, "login": d.acct.login, "scope": httpapi.DeveloperScope}}}
	return ev
}

// edgeError turns an HTTP answer back into the coded error the driver judges:
// a 5xx or a key still held by a killed attempt is transient (sent again).
func edgeError(res events.APIGatewayV2HTTPResponse) error {
	if res.StatusCode < 300 {
		return nil
	}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(res.Body), &body)
	code := migration.Code(body.Error.Code)
	switch {
	case code == "IDEMPOTENCY_KEY_IN_USE":
		code = migration.CodeUnavailable
	case res.StatusCode >= 500 && code != migration.CodeUnavailable:
		code = migration.CodeInternal
	}
	return &migration.Error{Code: code, Message: fmt.Sprintf("HTTP %d: %s", res.StatusCode, body.Error.Message)}
}
