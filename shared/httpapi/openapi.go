package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/devplatform/account-migration/api"
)

// rawReply is a handler's answer that is not JSON (the spec, a page).
type rawReply struct {
	contentType string
	body        []byte
	// private replies (a developer's own records) are never cached by a
	// shared cache; headers are added to the reply's own.
	private bool
	headers map[string]string
}

// openapi serves api/openapi.yaml, the file the tests validate every answer
// against, without a token.
func (a *API) openapi(context.Context, *request) (int, any, error) {
	return http.StatusOK, rawReply{contentType: "application/yaml", body: api.OpenAPI}, nil
}

func respondRaw(status int, raw rawReply, reqID string) events.APIGatewayV2HTTPResponse {
	h := map[string]string{"content-type": raw.contentType, "x-request-id": reqID, "cache-control": "public, max-age=300"}
	if raw.private {
		h["cache-control"] = "no-store"
	}
	for k, v := range raw.headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: string(raw.body)}
}
