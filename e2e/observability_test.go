package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What ops see when a developer migrates through the API: the API's lines
// carry both request ids and the migration id, a refused request is counted
// by code under the id the caller was given, and a parked wait records its
// age by step.
func TestRequestAndWaitObservability(t *testing.T) {
	s, logs := startStackWithLogs(t, nil)
	erin := developer(t, s, "microapp", "ma-5005", "erin@example.com")
	start := erin.do("POST", "/v1/migrations", nil)
	require.Equal(t, 202, start.Status, start.Raw)
	mid := str(start.Body["migrationId"])
	missing := erin.do("GET", "/v1/migrations/m-does-not-exist", nil)
	require.Equal(t, 404, missing.Status, missing.Raw)
	callerID := str(obj(missing.Body["error"])["requestId"])
	require.NotEmpty(t, callerID)

	var parked map[string]any
	eventually(t, 60*time.Second, "the agreement wait's WaitingAgeSeconds metric", func() bool {
		for _, l := range logs.jsonLines("RecordAgreementFunction") {
			if _, ok := l["WaitingAgeSeconds"]; ok && l["migrationId"] == mid {
				parked = l
				return true
			}
		}
		return false
	})
	assert.Equal(t, "agreement", parked["Step"])
	assert.NotEmpty(t, parked["batchId"])
	age, _ := parked["WaitingAgeSeconds"].(float64)
	assert.GreaterOrEqual(t, age, 0.0)
	assert.Less(t, age, 60.0, "parked right after the batch entered AWAITING_AGREEMENT")

	var started, refused, counted bool
	for _, l := range logs.jsonLines("ApiFunction") {
		if _, isEMF := l["_aws"]; isEMF {
			if l["RequestsFailed"] == float64(1) && l["apiRequestId"] == callerID {
				counted = true
				assert.Equal(t, "NOT_FOUND", l["Code"])
				assert.Equal(t, float64(404), l["status"])
				assert.Equal(t, "GET /v1/migrations/{migrationId}", l["route"])
			}
			continue
		}
		assert.NotEmpty(t, l["requestId"], "the invocation's request id on every API line: %v", l)
		assert.NotEmpty(t, l["apiRequestId"], "API Gateway's request id on every API line: %v", l)
		switch l["route"] {
		case "POST /v1/migrations":
			if l["message"] == "request" {
				started = true
				assert.Equal(t, mid, l["migrationId"], "the started migration's id on its request line")
			}
		case "GET /v1/migrations/{migrationId}":
			if l["apiRequestId"] == callerID {
				refused = true
				assert.Equal(t, "m-does-not-exist", l["migrationId"])
				assert.Equal(t, "NOT_FOUND", l["code"])
			}
		}
	}
	assert.True(t, started, "the start request was logged")
	assert.True(t, refused, "the refused request was logged under the id the caller got")
	assert.True(t, counted, "the refused request was counted under the id the caller got")
}
