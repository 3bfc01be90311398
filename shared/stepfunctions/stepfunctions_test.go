package stepfunctions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/shared/stepfunctions"
)

// On moto (Step Functions executing ASL): a parked wait answers a heartbeat
// while it waits and not once it has ended, and the execution reports
// whether it runs. These are what the API asks before it lets an action take
// a batch a step further (WORKFLOW_GONE).
func TestWaitAliveAndExecutionRunningOnStepFunctions(t *testing.T) {
	srv := mototest.Start(t)
	api := sfn.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
	ctx := context.Background()
	exArn, token := parkedWait(t, api)
	ex := &sfn.StartExecutionOutput{ExecutionArn: aws.String(exArn)}

	c := &stepfunctions.Client{API: api}
	alive, err := c.WaitAlive(ctx, token)
	require.NoError(t, err)
	assert.True(t, alive, "the wait is parked")
	running, err := c.ExecutionRunning(ctx, aws.ToString(ex.ExecutionArn))
	require.NoError(t, err)
	assert.True(t, running)

	require.NoError(t, c.Succeed(ctx, token, map[string]any{"ok": true}))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		running, err = c.ExecutionRunning(ctx, aws.ToString(ex.ExecutionArn))
		require.NoError(t, err)
		if !running {
			break
		}
		require.True(t, time.Now().Before(deadline), "the execution did not end after its wait was answered")
	}
	alive, err = c.WaitAlive(ctx, token)
	require.NoError(t, err, "an ended wait is an answer, not an error")
	assert.False(t, alive, "the wait has ended")
	alive, err = c.WaitAlive(ctx, "not-a-token")
	require.NoError(t, err)
	assert.False(t, alive)
	running, err = c.ExecutionRunning(ctx, "arn:aws:states:us-east-1:123456789012:execution:waits:nope")
	require.NoError(t, err)
	assert.False(t, running, "an execution that does not exist does not run")
}

// parkedWait starts an execution whose one task waits on a task token
// (.waitForTaskToken) with a heartbeat, and returns it and the token. The
// wait hands its token to a child execution, where it is read.
func parkedWait(t *testing.T, api *sfn.Client) (executionArn, token string) {
	t.Helper()
	ctx := context.Background()
	role := aws.String("arn:aws:iam::123456789012:role/local-sfn")
	suffix := fmt.Sprint(time.Now().UnixNano())
	// The parked wait hands its token to a child execution, where the test reads it.
	child, err := api.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("holder-" + suffix), RoleArn: role,
		Definition: aws.String(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":300,"End":true}}}`)})
	require.NoError(t, err)
	parent, err := api.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("waits-" + suffix), RoleArn: role,
		Definition: aws.String(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.waitForTaskToken",
			"Parameters":{"StateMachineArn":"` + aws.ToString(child.StateMachineArn) + `","Input":{"token.$":"$$.Task.Token"}},
			"HeartbeatSeconds":60,"TimeoutSeconds":300,"End":true}}}`)})
	require.NoError(t, err)
	ex, err := api.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: parent.StateMachineArn, Input: aws.String(`{}`)})
	require.NoError(t, err)

	for deadline := time.Now().Add(30 * time.Second); token == ""; time.Sleep(100 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the wait never parked its token")
		list, err := api.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: child.StateMachineArn})
		require.NoError(t, err)
		if len(list.Executions) == 0 {
			continue
		}
		d, err := api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: list.Executions[0].ExecutionArn})
		require.NoError(t, err)
		var in struct{ Token string }
		require.NoError(t, json.Unmarshal([]byte(aws.ToString(d.Input)), &in))
		token = in.Token
	}

	return aws.ToString(ex.ExecutionArn), token
}
