// Package stepfunctions is the Step Functions adapter: it starts the
// migration's executions and ends the waits the workflow parks.
package stepfunctions

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// API is the part of the Step Functions client used here.
type API interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	SendTaskHeartbeat(context.Context, *sfn.SendTaskHeartbeatInput, ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error)
}

// Client implements migration.Signaller and migration.Starter.
type Client struct {
	API             API
	StateMachineArn string
}

var (
	_ migration.Signaller     = (*Client)(nil)
	_ migration.Starter       = (*Client)(nil)
	_ migration.WorkflowProbe = (*Client)(nil)
)

// StartExecution starts the execution named name. The name is the migration
// id; starting it again with the same input returns the same execution
// (Step Functions' execution-name idempotency).
func (c *Client) StartExecution(ctx context.Context, name string, input any) (string, error) {
	body, err := json.Marshal(input)
	if err != nil {
		return "", err
	}
	out, err := c.API.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &c.StateMachineArn, Name: &name, Input: aws.String(string(body))})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return c.executionArn(name), nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ExecutionArn), nil
}

// executionArn is the ARN of the execution named name of this state machine.
func (c *Client) executionArn(name string) string {
	// arn:aws:states:region:account:stateMachine:Name -> ...:execution:Name:name
	const marker = ":stateMachine:"
	for i := 0; i+len(marker) <= len(c.StateMachineArn); i++ {
		if c.StateMachineArn[i:i+len(marker)] == marker {
			return c.StateMachineArn[:i] + ":execution:" + c.StateMachineArn[i+len(marker):] + ":" + name
		}
	}
	return ""
}

// Succeed ends a parked wait successfully with output as the task's result.
func (c *Client) Succeed(ctx context.Context, token string, output any) error {
	body := []byte("{}")
	if output != nil {
		var err error
		if body, err = json.Marshal(output); err != nil {
			return err
		}
	}
	_, err := c.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String(string(body))}, persist)
	return err
}

// persist gives a wake more attempts than the SDK's default three: a
// throttled SendTaskSuccess in a cohort burst is the one call whose loss
// leaves a developer's step unheard (the waiting probe sends it again later,
// migration.Migrator.Rewake, should these run out too).
func persist(o *sfn.Options) {
	o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 8)
}

// Fail ends a parked wait with an error the workflow can catch.
func (c *Client) Fail(ctx context.Context, token, errorType, cause string) error {
	_, err := c.API.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &token, Error: &errorType, Cause: &cause}, persist)
	return err
}

// WaitAlive asks whether the task that parked token still waits, with a
// heartbeat (the one call that touches a token without ending its wait; it
// also restarts the wait's heartbeat clock, which only keeps it alive). Step
// Functions answers TaskTimedOut, TaskDoesNotExist or InvalidToken for a wait
// that ended: its execution failed, timed out or was stopped, or the task
// gave up.
func (c *Client) WaitAlive(ctx context.Context, token string) (bool, error) {
	_, err := c.API.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: &token})
	if err == nil {
		return true, nil
	}
	if WaitEnded(err) {
		return false, nil
	}
	return false, err
}

// WaitEnded reports whether err says the wait a token belongs to has ended.
func WaitEnded(err error) bool {
	var timedOut *types.TaskTimedOut
	var missing *types.TaskDoesNotExist
	var invalid *types.InvalidToken
	return errors.As(err, &timedOut) || errors.As(err, &missing) || errors.As(err, &invalid)
}

// ExecutionRunning reports whether the execution is still RUNNING.
func (c *Client) ExecutionRunning(ctx context.Context, executionArn string) (bool, error) {
	out, err := c.API.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &executionArn})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return out.Status == types.ExecutionStatusRunning, nil
}
