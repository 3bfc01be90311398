package reliability

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

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
}

var meta = migration.RequestMeta{SourceIP: "198.51.100.7", UserAgent: "soak"}

func child(rng *rand.Rand) *rand.Rand { return rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())) }

func (d *developer) run(ctx context.Context, rng *rand.Rand) {
	src := d.acct.ref
	for attempt := 0; attempt < 2; attempt++ {
		id := fmt.Sprintf("m-%s-%d", src.ID, attempt)
		var res migration.BeginResult
		err := d.c.do(ctx, rng, "Begin", func(ctx context.Context) (err error) {
			res, err = d.m.Begin(ctx, migration.BeginInput{MigrationID: id, Source: src, RequestedBy: "developer:" + src.String()})
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
	return f
}

// batch drives one batch until it ends, acting on the state it last saw: the
// batch a use case answered with, or (after a failure or a race, when the
// outcome is unknown) the batch read again, so any outcome of a faulted step
// is picked up where it left off.
func (d *developer) batch(ctx context.Context, rng *rand.Rand, migrationID, batchID string, f fate) migration.BatchState {
	tried := map[string]bool{}
	changed := false
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

// act takes the developer's next step on a waiting batch. It returns the batch
// as the use case answered it, or nil when the outcome must be read again.
func (d *developer) act(ctx context.Context, rng *rand.Rand, b migration.Batch, f fate, tried map[string]bool, changed *bool) *migration.Batch {
	src := d.acct.ref
	var out migration.Batch
	switch {
	case b.State == migration.AwaitingAgreement:
		var a migration.Agreement
		if err := d.c.do(ctx, rng, "ViewAgreement", func(ctx context.Context) (err error) {
			a, err = d.m.ViewAgreement(ctx, src, meta)
			return err
		}); err != nil {
			d.t.answer("ViewAgreement", err)
			return nil
		}
		err := d.c.do(ctx, rng, "AcceptAgreement", func(ctx context.Context) (err error) {
			out, err = d.m.AcceptAgreement(ctx, src, b.MigrationID, b.BatchID, a.Version, a.SHA256, meta)
			return err
		})
		if err != nil {
			d.t.answer("AcceptAgreement", err, migration.CodeWrongStep)
			return nil
		}
		return &out
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
				err := d.c.do(ctx, crng, "Confirm", func(ctx context.Context) error {
					_, err := d.m.Confirm(ctx, src, b.MigrationID, b.BatchID)
					return err
				})
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
