package apigw

import "github.com/devplatform/account-migration/shared/migration"

// The codes the gateway answers with itself, before or instead of the
// function: the same strings as the Lambda edge's (shared/httpapi/errors.go)
// and the domain's (migration.Code).
const (
	codeStarting        = "STARTING" // local only: the stack is still starting
	codeRouteNotFound   = "ROUTE_NOT_FOUND"
	codeUnauthorized    = "UNAUTHORIZED"
	codeForbidden       = "FORBIDDEN"
	codePayloadTooLarge = "PAYLOAD_TOO_LARGE"
	codeUnsupportedType = "UNSUPPORTED_MEDIA_TYPE"
	codeBadRequest      = "BAD_REQUEST"
	codeInvalidInput    = string(migration.CodeInvalidInput)
	codeNotFound        = string(migration.CodeNotFound)
	codeInternal        = string(migration.CodeInternal)
)
