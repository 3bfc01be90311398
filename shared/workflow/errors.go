package workflow

import (
	"errors"

	"github.com/devplatform/account-migration/shared/migration"
)

// Errors the state machine matches by name. aws-lambda-go reports the Go type
// name of the returned error as errorType, so each is a named type returned
// unwrapped from the handler (statemachine/migration.asl.json names them).
type (
	// InvalidInput: the execution input or a step's payload is wrong; retrying
	// cannot help.
	InvalidInput struct{ Code, Message string }
	// StoreUnavailable: DynamoDB throttled or failed; the step is retried.
	StoreUnavailable struct{ Message string }
	// BatchClosed: the batch ended (FAILED or EXPIRED) before the point of no
	// return; its branch ends.
	BatchClosed struct{ Code, Message string }
	// AssetConflict: an item of the batch is held by someone else. Nothing of
	// the chunk moved; ops must look (the reconciliation check reports it).
	AssetConflict struct{ Message string }
	// StepFailed: anything else.
	StepFailed struct{ Code, Message string }
)

func (e *InvalidInput) Error() string     { return e.Code + ": " + e.Message }
func (e *StoreUnavailable) Error() string { return e.Message }
func (e *BatchClosed) Error() string      { return e.Code + ": " + e.Message }
func (e *AssetConflict) Error() string    { return e.Message }
func (e *StepFailed) Error() string       { return e.Code + ": " + e.Message }

// boundary turns a use-case error into the typed error the state machine
// matches. Only caller-safe messages cross it.
func boundary(err error) error {
	if err == nil {
		return nil
	}
	var ce *migration.Error
	if !errors.As(err, &ce) {
		return &StepFailed{Code: string(migration.CodeInternal), Message: "internal error"}
	}
	switch ce.Code {
	case migration.CodeUnavailable:
		return &StoreUnavailable{Message: ce.Message}
	case migration.CodeInvalidInput, migration.CodeUnknownBatch, migration.CodeAgreementVersionMismatch, migration.CodeNotFound:
		return &InvalidInput{Code: string(ce.Code), Message: ce.Message}
	case migration.CodeQuotaExceeded, migration.CodeTargetNotEligible, migration.CodeNothingToMove:
		return &BatchClosed{Code: string(ce.Code), Message: ce.Message}
	case migration.CodeAssetConflict:
		return &AssetConflict{Message: ce.Message}
	}
	return &StepFailed{Code: string(ce.Code), Message: ce.Message}
}
