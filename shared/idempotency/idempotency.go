// Package idempotency is the port behind the HTTP API's Idempotency-Key: what
// a request claims a key with, the record a key keeps (the request's hash and,
// once it ran, its answer), and the store that keeps them. The HTTP edge
// (shared/httpapi) decides what a key means; the DynamoDB adapter
// (shared/dynamostore) keeps the records with conditional writes. Neither
// imports the other.
package idempotency

import (
	"context"
	"time"
)

// Store keeps each Idempotency-Key's request and answer.
type Store interface {
	// ClaimIdempotencyKey claims (scope, key) for a request with a conditional
	// write; when it cannot (the key is answered, taken by another request or
	// held by a running one), it returns the record as it stands.
	ClaimIdempotencyKey(ctx context.Context, scope, key string, c Claim) (rec Record, claimed bool, err error)
	// FinishIdempotencyKey stores the answer of the claim's owner.
	FinishIdempotencyKey(ctx context.Context, scope, key, owner string, rec Record) error
	// ReleaseIdempotencyKey ends owner's claim without an answer: only the
	// same request may run again, another one stays IDEMPOTENCY_KEY_REUSED.
	ReleaseIdempotencyKey(ctx context.Context, scope, key, owner string) error
	// IdempotentResponse reads the record of (scope, key).
	IdempotentResponse(ctx context.Context, scope, key string) (Record, bool, error)
}

// Claim is what a request claims a key with.
type Claim struct {
	RequestHash string
	Owner       string        // unique per request: only it may finish or release the claim
	Lease       time.Duration // after it, another run of the same request may take the claim over
	TTL         time.Duration
}

// Record is a key's request and, once it has run, its answer.
type Record struct {
	RequestHash string `dynamodbav:"requestHash"`
	Status      int    `dynamodbav:"status,omitempty"` // 0 while the request runs
	Body        string `dynamodbav:"body,omitempty"`
	Owner       string `dynamodbav:"owner,omitempty"`
	LeaseUntil  int64  `dynamodbav:"leaseUntil,omitempty"` // unix ms
	ExpiresAt   int64  `dynamodbav:"expiresAt,omitempty"`  // unix s, the table's TTL attribute
}

// Running reports a request that holds its key and has not answered yet.
func (r Record) Running(now time.Time) bool {
	return r.Status == 0 && r.LeaseUntil >= now.UnixMilli()
}
