package costmodel

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPriceByService(t *testing.T) {
	u := Usage{
		Transitions: 14,
		Invocations: []Invocation{
			{Function: "CommitFunction", MemoryMB: 512, Duration: 1500 * time.Millisecond},
			{Function: "FinishFunction", MemoryMB: 256, Duration: 2100 * time.Microsecond}, // billed 3 ms
		},
		WriteUnits: 238, ReadUnits: 10.5, Events: 1,
	}
	b := Price(u, USEast1Arm64)
	assert.InDelta(t, 14*0.000025, b.StepFunctions, 1e-12)
	assert.InDelta(t, 2*0.0000002, b.LambdaRequests, 1e-12)
	// 0.5 GB × 1.5 s + 0.25 GB × 0.003 s = 0.75075 GB-s
	assert.InDelta(t, 0.75075, GBSeconds(u.Invocations), 1e-9)
	assert.InDelta(t, 0.75075*0.0000133334, b.LambdaDuration, 1e-12)
	assert.InDelta(t, 238*0.000000625, b.DynamoDBWrites, 1e-12)
	assert.InDelta(t, 10.5*0.000000125, b.DynamoDBReads, 1e-12)
	assert.InDelta(t, 0.000001, b.EventBridge, 1e-12)
	assert.InDelta(t, b.StepFunctions+b.Lambda()+b.DynamoDB()+b.EventBridge, b.Total(), 1e-15)
	assert.InDelta(t, 1000*b.Total(), b.Scale(1000).Total(), 1e-12)
}

func TestNothingCostsNothing(t *testing.T) {
	assert.Zero(t, Price(Usage{}, USEast1Arm64).Total())
}

func TestUnitsFollowDynamoDBsRules(t *testing.T) {
	assert.Equal(t, 1.0, WriteUnits(200, false))
	assert.Equal(t, 2.0, WriteUnits(200, true))
	assert.Equal(t, 2.0, WriteUnits(1025, false))
	assert.Equal(t, 4.0, WriteUnits(2048, true))
	assert.Equal(t, 0.5, ReadUnits(100, false, false))
	assert.Equal(t, 1.0, ReadUnits(100, true, false))
	assert.Equal(t, 2.0, ReadUnits(100, false, true))
	assert.Equal(t, 1.0, ReadUnits(4097, false, false))
}
