package migration

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. Clients and Step Functions
// match on it; the HTTP edge maps it to a status in one table.
type Code string

const (
	CodeInvalidInput             Code = "INVALID_INPUT"
	CodeNotFound                 Code = "NOT_FOUND"
	CodeWrongStep                Code = "WRONG_STEP"
	CodeAgreementRequired        Code = "AGREEMENT_REQUIRED"
	CodeAgreementNotViewed       Code = "AGREEMENT_NOT_VIEWED"
	CodeAgreementVersionMismatch Code = "AGREEMENT_VERSION_MISMATCH"
	CodeTargetNotEligible        Code = "TARGET_NOT_ELIGIBLE"
	CodeQuotaExceeded            Code = "QUOTA_EXCEEDED"
	CodeNoMigrationNeeded        Code = "NO_MIGRATION_NEEDED"
	CodeUnknownBatch             Code = "UNKNOWN_BATCH"
	CodeConflict                 Code = "CONFLICT"
	CodeIdempotencyMismatch      Code = "IDEMPOTENCY_KEY_REUSED"
	CodeBatchClosed              Code = "BATCH_CLOSED"
	CodeExpired                  Code = "EXPIRED"      // the batch's deadline passed before it was confirmed
	CodeMoveStalled              Code = "MOVE_STALLED" // a move failed for good; the batch stays COMMITTING until ops resume it
	CodeWorkflowNotStarted       Code = "WORKFLOW_NOT_STARTED"
	CodeAssetConflict            Code = "ASSET_CONFLICT"
	CodeNothingToMove            Code = "NOTHING_TO_MOVE"
	CodeUnavailable              Code = "UNAVAILABLE"
	CodeInternal                 Code = "INTERNAL"
	// CodeWorkflowGone: the batch waits on the developer but its workflow
	// (child execution, wait) has ended: no action is taken, ops close it.
	CodeWorkflowGone Code = "WORKFLOW_GONE"
)

// Error is a coded application error. Message is safe to show to the caller;
// internal causes stay in Err and are only logged.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a coded error with a caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or CodeInternal for an uncoded error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool {
	return err != nil && ErrorCode(err) == code
}
