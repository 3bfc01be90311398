package httpapi

import (
	"errors"
	"net/http"

	"github.com/devplatform/account-migration/shared/migration"
)

// Codes that only the HTTP edge produces.
const (
	codeUnauthorized      migration.Code = "UNAUTHORIZED"
	codeForbidden         migration.Code = "FORBIDDEN"
	codePayloadTooLarge   migration.Code = "PAYLOAD_TOO_LARGE"
	codeUnsupportedMedia  migration.Code = "UNSUPPORTED_MEDIA_TYPE"
	codeRouteNotFound     migration.Code = "ROUTE_NOT_FOUND"
	codeConfirmationFalse migration.Code = "CONFIRMATION_REQUIRED"
	codeIdempotencyInUse  migration.Code = "IDEMPOTENCY_KEY_IN_USE"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[migration.Code]int{
	migration.CodeInvalidInput:             http.StatusBadRequest,
	migration.CodeUnknownBatch:             http.StatusBadRequest,
	codeConfirmationFalse:                  http.StatusBadRequest,
	codeUnauthorized:                       http.StatusUnauthorized,
	codeForbidden:                          http.StatusForbidden,
	migration.CodeNotFound:                 http.StatusNotFound,
	codeRouteNotFound:                      http.StatusNotFound,
	migration.CodeWrongStep:                http.StatusConflict,
	migration.CodeAgreementRequired:        http.StatusConflict,
	migration.CodeAgreementNotViewed:       http.StatusConflict,
	migration.CodeAgreementVersionMismatch: http.StatusConflict,
	migration.CodeConflict:                 http.StatusConflict,
	migration.CodeBatchClosed:              http.StatusConflict,
	migration.CodeExpired:                  http.StatusConflict,
	migration.CodeWorkflowNotStarted:       http.StatusConflict,
	codeIdempotencyInUse:                   http.StatusConflict,
	codePayloadTooLarge:                    http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia:                   http.StatusUnsupportedMediaType,
	migration.CodeTargetNotEligible:        http.StatusUnprocessableEntity,
	migration.CodeQuotaExceeded:            http.StatusUnprocessableEntity,
	migration.CodeNothingToMove:            http.StatusUnprocessableEntity,
	migration.CodeNoMigrationNeeded:        http.StatusUnprocessableEntity,
	migration.CodeIdempotencyMismatch:      http.StatusUnprocessableEntity,
	migration.CodeUnavailable:              http.StatusServiceUnavailable,
	migration.CodeAssetConflict:            http.StatusInternalServerError,
	migration.CodeInternal:                 http.StatusInternalServerError,
	migration.CodeWorkflowGone:             http.StatusConflict,
}

// errorBody is the JSON error shape of docs/CONTRACT.md §2.
type errorBody struct {
	Error struct {
		Code      migration.Code `json:"code"`
		Message   string         `json:"message"`
		RequestID string         `json:"requestId"`
	} `json:"error"`
}

// publicError returns the status, code and caller-safe message of err.
// Uncoded errors are internal: their text never reaches the caller.
func publicError(err error) (int, migration.Code, string) {
	var ce *migration.Error
	if !errors.As(err, &ce) {
		return http.StatusInternalServerError, migration.CodeInternal, "internal error"
	}
	status, ok := statusOf[ce.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := ce.Message
	if status >= 500 && ce.Code != migration.CodeUnavailable {
		msg = "internal error"
	}
	return status, ce.Code, msg
}
