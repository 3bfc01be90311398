package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devplatform/account-migration/shared/idempotency"
	"github.com/devplatform/account-migration/shared/migration"
)

// Idempotency-Key works as in the payment APIs that introduced it: the key
// belongs to the caller; the first request claims it before it runs; the
// answer of a request that ran is kept (refusals too) and replayed to the same
// request; another request with the key is IDEMPOTENCY_KEY_REUSED; and one
// request per key runs at a time.
const (
	// IdempotencyTTL is how long a key stays bound to its request and answer.
	IdempotencyTTL = 24 * time.Hour
	// defaultIdempotencyLease outlives the API function's 30 s timeout, so a
	// running request never loses its claim; a crashed one frees it after this.
	defaultIdempotencyLease = 35 * time.Second
	// defaultIdempotencyWait is how long a twin request waits for the first
	// one's answer before it gets 409 IDEMPOTENCY_KEY_IN_USE.
	defaultIdempotencyWait = 8 * time.Second
)

// The port and its records live in shared/idempotency, which the DynamoDB
// adapter implements without importing the edge; these are their names here.
type (
	Idempotency      = idempotency.Store
	IdempotencyClaim = idempotency.Claim
	IdempotentRecord = idempotency.Record
)

type idemClaim struct{ scope, key, hash, owner string }

// claimKey claims the key for this request, or answers it: the first answer
// replayed, IDEMPOTENCY_KEY_REUSED for another request, or, when the first
// run of this request does not answer within a bounded wait,
// IDEMPOTENCY_KEY_IN_USE.
func (a *API) claimKey(ctx context.Context, r *request, key, hash string) (*idemClaim, *events.APIGatewayV2HTTPResponse, error) {
	var owner [16]byte
	_, _ = rand.Read(owner[:])
	c := &idemClaim{scope: r.caller.String(), key: key, hash: hash, owner: hex.EncodeToString(owner[:])}
	deadline := time.Now().Add(orDefault(a.IdempotencyWait, defaultIdempotencyWait))
	for {
		rec, claimed, err := a.Idempotency.ClaimIdempotencyKey(ctx, c.scope, key,
			IdempotencyClaim{RequestHash: hash, Owner: c.owner, Lease: orDefault(a.IdempotencyLease, defaultIdempotencyLease), TTL: IdempotencyTTL})
		if err != nil || claimed {
			return c, nil, err
		}
		if rec, err = a.awaitAnswer(ctx, c, rec, deadline); err != nil {
			return nil, nil, err
		}
		if rec.Status != 0 {
			res := respond(rec.Status, []byte(rec.Body), r.reqID, true)
			return nil, &res, nil
		}
		// The record is gone or its lease ran out: claim it again.
		if time.Now().After(deadline) {
			return nil, nil, migration.Errorf(codeIdempotencyInUse, "a request with this Idempotency-Key is still running; try again in a moment")
		}
	}
}

// awaitAnswer polls (reads, not writes) a key another request holds until it
// is answered, freed or its lease ends, for at most until deadline.
func (a *API) awaitAnswer(ctx context.Context, c *idemClaim, rec IdempotentRecord, deadline time.Time) (IdempotentRecord, error) {
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		if rec.RequestHash != c.hash {
			return rec, migration.Errorf(migration.CodeIdempotencyMismatch, "this Idempotency-Key was used for a different request")
		}
		if !rec.Running(time.Now()) {
			return rec, nil
		}
		if time.Now().Add(pause).After(deadline) {
			return rec, migration.Errorf(codeIdempotencyInUse, "a request with this Idempotency-Key is still running; try again in a moment")
		}
		select {
		case <-ctx.Done():
			return rec, &migration.Error{Code: migration.CodeUnavailable, Message: "the request was cancelled; try again", Err: ctx.Err()}
		case <-time.After(pause):
		}
		cur, found, err := a.Idempotency.IdempotentResponse(ctx, c.scope, c.key)
		if err != nil || !found {
			return IdempotentRecord{RequestHash: c.hash}, err
		}
		rec = cur
	}
}

// settle ends the claim with the request's answer. Recorded: every answer of
// a request that ran, success or refusal (400 bad input, 404, 409, 422), so a
// replay gets the same status and body and the key stays bound to its
// request: a corrected body takes a new key, as the contract says of "another
// request". Not recorded: 5xx and codes that say "try again" (UNAVAILABLE,
// WORKFLOW_NOT_STARTED): the same request may succeed on retry, so the lease
// ends at once and only that request may run again (a part of it may have
// run: another body stays IDEMPOTENCY_KEY_REUSED).
//
// 401, 403, 413, 415 and a bad key are answered before the claim.
func (a *API) settle(ctx context.Context, log *slog.Logger, c *idemClaim, res events.APIGatewayV2HTTPResponse, code migration.Code) {
	var err error
	switch {
	case res.StatusCode >= 500 || code == migration.CodeUnavailable || code == migration.CodeWorkflowNotStarted:
		err = a.Idempotency.ReleaseIdempotencyKey(ctx, c.scope, c.key, c.owner)
	default:
		err = a.Idempotency.FinishIdempotencyKey(ctx, c.scope, c.key, c.owner,
			IdempotentRecord{RequestHash: c.hash, Status: res.StatusCode, Body: res.Body})
	}
	if err != nil {
		log.WarnContext(ctx, "idempotency record not settled", "status", res.StatusCode, "error", err)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
