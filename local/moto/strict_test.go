package moto_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto"
	"github.com/devplatform/account-migration/local/moto/mototest"
)

// machines runs small state machines on one moto and reports how they ended.
type machines struct {
	t  *testing.T
	sf *sfn.Client
	n  atomic.Int64
}

type ending struct {
	Status       sfntypes.ExecutionStatus
	Error, Cause string
	Output       string
	Took         time.Duration
}

// run creates a state machine from states (StartAt "A"), starts it with input
// and waits (bounded) for it to stop.
func (m *machines) run(states map[string]any, input any) ending {
	m.t.Helper()
	ctx := context.Background()
	def, err := json.Marshal(map[string]any{"StartAt": "A", "States": states})
	require.NoError(m.t, err)
	in, err := json.Marshal(input)
	require.NoError(m.t, err)
	sm, err := m.sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(fmt.Sprintf("strict-%d", m.n.Add(1))),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/local-sfn"), Definition: aws.String(string(def))})
	require.NoError(m.t, err)
	began := time.Now()
	ex, err := m.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(string(in))})
	require.NoError(m.t, err)
	for deadline := time.Now().Add(60 * time.Second); ; {
		d, err := m.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		require.NoError(m.t, err)
		if d.Status != sfntypes.ExecutionStatusRunning {
			return ending{Status: d.Status, Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause), Output: aws.ToString(d.Output), Took: time.Since(began)}
		}
		require.True(m.t, time.Now().Before(deadline), "execution still running after 60 s")
		time.Sleep(50 * time.Millisecond)
	}
}

func startMachines(t *testing.T, opts moto.Options) *machines {
	srv := mototest.StartWith(t, opts)
	return &machines{t: t, sf: sfn.NewFromConfig(mototest.AWSConfig(srv.Endpoint))}
}

// catchAll: every state below that can catch, catches everything into Caught.
var (
	catchAll = []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "Next": "Caught"}}
	retryAll = []any{map[string]any{"ErrorEquals": []string{"States.ALL"}, "MaxAttempts": 2, "IntervalSeconds": 1}}
	caught   = map[string]any{"Type": "Pass", "Result": "caught", "End": true}
	// sdkTask is a task moto runs against itself (DynamoDB ListTables).
	sdkTask = func(extra map[string]any) map[string]any {
		st := map[string]any{"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:listTables", "Parameters": map[string]any{},
			"Retry": retryAll, "Catch": catchAll, "End": true}
		for k, v := range extra {
			st[k] = v
		}
		return st
	}
	succeed = map[string]any{"Type": "Succeed"}
)

// distributedMap iterates $.items; item 2 fails, the others wait `wait` seconds.
func distributedMap(wait int, extra map[string]any) map[string]any {
	st := map[string]any{"Type": "Map", "ItemsPath": "$.items", "End": true,
		"ItemProcessor": map[string]any{"ProcessorConfig": map[string]any{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
			"StartAt": "B", "States": map[string]any{
				"B":    map[string]any{"Type": "Choice", "Choices": []any{map[string]any{"Variable": "$", "NumericEquals": 2, "Next": "Boom"}}, "Default": "Slow"},
				"Boom": map[string]any{"Type": "Fail", "Error": "Boom"},
				"Slow": map[string]any{"Type": "Wait", "Seconds": wait, "End": true}}}}
	for k, v := range extra {
		st[k] = v
	}
	return st
}

// Strict mode (local/moto/strict.py, the default): the local Step Functions
// refuses what AWS refuses (docs/EMULATOR.md, "Strict mode").
func TestStrictStepFunctions(t *testing.T) {
	m := startMachines(t, moto.Options{})
	in := map[string]any{"here": 1, "items": []int{1, 2, 3}}

	// AWS: a path that finds nothing is States.Runtime; no Retry retries it
	// and no Catch catches it, States.ALL included: the execution fails.
	for name, states := range map[string]map[string]any{
		"InputPath":      {"A": sdkTask(map[string]any{"InputPath": "$.nope"}), "Caught": caught},
		"Parameters":     {"A": sdkTask(map[string]any{"Parameters": map[string]any{"x.$": "$.nope"}}), "Caught": caught},
		"ResultSelector": {"A": sdkTask(map[string]any{"ResultSelector": map[string]any{"x.$": "$.nope"}}), "Caught": caught},
		"OutputPath":     {"A": sdkTask(map[string]any{"OutputPath": "$.nope"}), "Caught": caught},
		"ItemsPath": {"A": map[string]any{"Type": "Map", "ItemsPath": "$.nope", "Catch": catchAll, "End": true,
			"ItemProcessor": map[string]any{"StartAt": "B", "States": map[string]any{"B": succeed}}}, "Caught": caught},
		"Choice variable": {"A": map[string]any{"Type": "Choice", "Default": "B",
			"Choices": []any{map[string]any{"Variable": "$.nope", "BooleanEquals": true, "Next": "B"}}}, "B": succeed},
	} {
		t.Run("a missing path in "+name+" is an uncaught States.Runtime", func(t *testing.T) {
			e := m.run(states, in)
			assert.Equal(t, sfntypes.ExecutionStatusFailed, e.Status, "output %s", e.Output)
			assert.Equal(t, "States.Runtime", e.Error)
			assert.Contains(t, e.Cause, "$.nope")
		})
	}
	t.Run("a service integration's error is no path error: States.ALL catches it", func(t *testing.T) {
		// moto reports it as States.Runtime; AWS as a task failure a Catch takes.
		e := m.run(map[string]any{"A": map[string]any{"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "Catch": catchAll, "End": true,
			"Parameters": map[string]any{"Entries": []any{map[string]any{"EventBusName": "no-such-bus", "Source": "s", "DetailType": "d", "Detail": map[string]any{}}}}},
			"Caught": caught}, in)
		assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, e.Cause)
		assert.Contains(t, e.Output, "caught")
	})
	t.Run("a Choice variable guarded by IsPresent is no error", func(t *testing.T) {
		e := m.run(map[string]any{"A": map[string]any{"Type": "Choice", "Default": "B", "Choices": []any{map[string]any{"And": []any{
			map[string]any{"Variable": "$.nope", "IsPresent": true}, map[string]any{"Variable": "$.nope", "BooleanEquals": true}}, "Next": "B"}}},
			"B": succeed}, in)
		assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, e.Cause)
	})

	// AWS: 256 KiB (262,144 bytes) of UTF-8 JSON for a state's output and its
	// input after Parameters; over it, States.DataLimitExceeded, which
	// States.ALL does not catch (naming it does).
	quota := 262144
	pass := func(result any) map[string]any {
		return map[string]any{"A": map[string]any{"Type": "Pass", "Result": result, "End": true}}
	}
	t.Run("an output of exactly 256 KiB passes", func(t *testing.T) {
		e := m.run(pass(strings.Repeat("a", quota-2)), in) // two bytes of quotes
		assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, e.Cause)
		e = m.run(pass(strings.Repeat("é", (quota-2)/2)), in) // two UTF-8 bytes each
		assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, e.Cause)
	})
	t.Run("an output one byte over 256 KiB is States.DataLimitExceeded", func(t *testing.T) {
		for _, s := range []string{strings.Repeat("a", quota-1), strings.Repeat("é", quota/2)} {
			e := m.run(pass(s), in)
			assert.Equal(t, sfntypes.ExecutionStatusFailed, e.Status)
			assert.Equal(t, "States.DataLimitExceeded", e.Error)
		}
	})
	big := map[string]any{"big": strings.Repeat("a", 140000)}
	overAfterParameters := map[string]any{"x.$": "$.big", "y.$": "$.big"}
	t.Run("an input over 256 KiB after Parameters is not caught by States.ALL", func(t *testing.T) {
		e := m.run(map[string]any{"A": sdkTask(map[string]any{"Parameters": overAfterParameters}), "Caught": caught}, big)
		assert.Equal(t, sfntypes.ExecutionStatusFailed, e.Status)
		assert.Equal(t, "States.DataLimitExceeded", e.Error)
	})
	t.Run("a catcher naming States.DataLimitExceeded catches it", func(t *testing.T) {
		e := m.run(map[string]any{"A": sdkTask(map[string]any{"Parameters": overAfterParameters,
			"Catch": []any{map[string]any{"ErrorEquals": []string{"States.DataLimitExceeded"}, "Next": "Caught"}}}), "Caught": caught}, big)
		assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, e.Cause)
		assert.Contains(t, e.Output, "caught")
	})

	// AWS: a Distributed Map fails its Map Run once failed children exceed
	// the tolerated share (none unless given) and stops the children still
	// running; the Map state fails with States.ExceedToleratedFailureThreshold.
	t.Run("one failed child of three fails the Map Run and stops its siblings", func(t *testing.T) {
		e := m.run(map[string]any{"A": distributedMap(30, nil)}, in)
		assert.Equal(t, sfntypes.ExecutionStatusFailed, e.Status)
		assert.Equal(t, "States.ExceedToleratedFailureThreshold", e.Error)
		assert.Less(t, e.Took, 20*time.Second, "the siblings waiting 30 s were stopped")
	})
	t.Run("a Catch on the Map catches the exceeded threshold", func(t *testing.T) {
		e := m.run(map[string]any{"A": distributedMap(1, map[string]any{"Catch": catchAll}), "Caught": caught}, in)
		assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, e.Cause)
		assert.Contains(t, e.Output, "caught")
	})
	for name, tc := range map[string]struct {
		extra map[string]any
		ok    bool
	}{
		"ToleratedFailurePercentage 100":     {map[string]any{"ToleratedFailurePercentage": 100}, true}, // an integer: patch 9
		"ToleratedFailurePercentagePath 50":  {map[string]any{"ToleratedFailurePercentagePath": "$.pct50"}, true},
		"ToleratedFailurePercentagePath 20":  {map[string]any{"ToleratedFailurePercentagePath": "$.pct20"}, false},
		"ToleratedFailureCount 1":            {map[string]any{"ToleratedFailureCount": 1}, true},
		"ToleratedFailureCountPath 0 (none)": {map[string]any{"ToleratedFailureCountPath": "$.zero"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			e := m.run(map[string]any{"A": distributedMap(1, tc.extra)}, map[string]any{"items": []int{1, 2, 3}, "pct50": 50, "pct20": 20, "zero": 0})
			if tc.ok {
				assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, e.Cause)
			} else {
				assert.Equal(t, "States.ExceedToleratedFailureThreshold", e.Error)
			}
		})
	}
}

// Without strict mode moto forgives what AWS refuses: the reason strict mode
// is the default of make run and make test.
func TestLenientMotoForgivesWhatAWSRefuses(t *testing.T) {
	m := startMachines(t, moto.Options{Lenient: true})
	e := m.run(map[string]any{"A": map[string]any{"Type": "Choice", "Default": "B",
		"Choices": []any{map[string]any{"Variable": "$.nope", "BooleanEquals": true, "Next": "B"}}}, "B": succeed}, map[string]any{})
	assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, "moto as shipped treats a missing Choice variable as no match")
	e = m.run(map[string]any{"A": sdkTask(map[string]any{"ResultSelector": map[string]any{"x.$": "$.nope"}}), "Caught": caught}, map[string]any{})
	assert.Contains(t, e.Output, "caught", "moto as shipped lets States.ALL catch States.Runtime")
	e = m.run(map[string]any{"A": distributedMap(1, nil)}, map[string]any{"items": []int{1, 2, 3}})
	assert.Equal(t, sfntypes.ExecutionStatusSucceeded, e.Status, "moto as shipped ignores the tolerated failures")
}
