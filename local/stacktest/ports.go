package stacktest

import (
	"context"
	"slices"
	"sync"
)

// NopSignaller stands in for Step Functions where no workflow waits on the
// batches (store-level tests); the callback path is proven end to end in e2e.
type NopSignaller struct{}

func (NopSignaller) Succeed(context.Context, string, any) error         { return nil }
func (NopSignaller) Fail(context.Context, string, string, string) error { return nil }

// RecordingSignaller stands in for Step Functions and remembers which task
// tokens were woken, and how, for a test to check.
type RecordingSignaller struct {
	mu        sync.Mutex
	succeeded []string
	errorType map[string]string // failed token -> error type
}

func (r *RecordingSignaller) Succeed(_ context.Context, token string, _ any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.succeeded = append(r.succeeded, token)
	return nil
}

func (r *RecordingSignaller) Fail(_ context.Context, token, errorType, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errorType == nil {
		r.errorType = map[string]string{}
	}
	r.errorType[token] = errorType
	return nil
}

// DidSucceed says whether token was woken with success.
func (r *RecordingSignaller) DidSucceed(token string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.succeeded, token)
}

// ErrorTypeOf is the error type token was failed with, "" if it was not.
func (r *RecordingSignaller) ErrorTypeOf(token string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errorType[token]
}

// NopStarter stands in for Step Functions' StartExecution: it starts nothing
// and answers a fixed execution ARN.
type NopStarter struct{}

func (NopStarter) StartExecution(context.Context, string, any) (string, error) {
	return "arn:aws:states:us-east-1:123456789012:execution:MigrationStateMachine:test", nil
}
