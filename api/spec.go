// Package api holds the HTTP API's published contract, openapi.yaml, embedded
// so that the API function serves the very file the tests validate against.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
