package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

// The roles of template.yaml, resolved as the local stack enforces them
// (SAM policy templates, managed policies of the template, inline
// statements), hold what docs/IAM.md says: each function has what it needs
// and nothing it does not, whatever is exercised by a test or not.
func TestTemplateRolesAsCut(t *testing.T) {
	allowed := roleAllows(t)
	const (
		own   = "arn:aws:states:us-east-1:123456789012:stateMachine:MigrationStateMachine-" + cfn.StackName
		other = "arn:aws:states:us-east-1:123456789012:stateMachine:MigrationStateMachine-another-stack"
	)
	functions := []string{"ApiFunction", "ListAssetsFunction", "SplitBySubjectFunction", "RecordAgreementFunction",
		"SelectTargetFunction", "CommitFunction", "FinishFunction", "WaitingProbeFunction"}
	writes := map[string][]string{
		"ApiFunction":             {"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"},
		"ListAssetsFunction":      {"PutItem", "DeleteItem"},
		"RecordAgreementFunction": {"UpdateItem"},
		"SelectTargetFunction":    {"UpdateItem"},
		"CommitFunction":          {"PutItem", "UpdateItem", "ConditionCheckItem"},
		"FinishFunction":          {"UpdateItem", "DeleteItem"},
	}
	// The waiting probe sends again a wake its wait never heard (Rewake).
	wakes := map[string]bool{"ApiFunction": true, "RecordAgreementFunction": true, "SelectTargetFunction": true, "CommitFunction": true, "WaitingProbeFunction": true}
	for _, fn := range functions {
		for _, read := range []string{"GetItem", "Query", "BatchGetItem"} {
			assert.True(t, allowed(fn, "dynamodb:"+read, dataTableArn), "%s reads", fn)
		}
		assert.True(t, allowed(fn, "dynamodb:Query", dataTableArn+"/index/gsi2"), "%s queries the indexes", fn)
		for _, never := range []string{"Scan", "BatchWriteItem", "DescribeTable", "DeleteTable", "PartiQLUpdate"} {
			assert.False(t, allowed(fn, "dynamodb:"+never, dataTableArn), "%s: dynamodb:%s", fn, never)
		}
		for _, w := range []string{"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"} {
			want := contains(writes[fn], w)
			assert.Equal(t, want, allowed(fn, "dynamodb:"+w, dataTableArn), "%s: dynamodb:%s on the data table", fn, w)
		}
		// The audit trail: appended by every writer, changed by no one.
		assert.Equal(t, len(writes[fn]) > 0, allowed(fn, "dynamodb:PutItem", auditTableArn), "%s appends to the audit trail", fn)
		assert.Equal(t, len(writes[fn]) > 0, allowed(fn, "dynamodb:Query", auditTableArn), "%s reads the trail's last number", fn)
		for _, never := range []string{"UpdateItem", "DeleteItem", "BatchWriteItem", "PartiQLUpdate", "PartiQLDelete", "DeleteTable"} {
			assert.False(t, allowed(fn, "dynamodb:"+never, auditTableArn), "%s: dynamodb:%s on the audit trail", fn, never)
		}
		// SendTask* are granted on "*" (IAM knows no resource for them),
		// and only to the functions that end waits.
		assert.Equal(t, wakes[fn], allowed(fn, "states:SendTaskSuccess", "*"), "%s wakes waits", fn)
		assert.Equal(t, (wakes[fn] && fn != "WaitingProbeFunction") || fn == "FinishFunction", allowed(fn, "states:SendTaskFailure", "*"), "%s fails waits", fn)
		assert.Equal(t, fn == "ApiFunction", allowed(fn, "states:SendTaskHeartbeat", "*"), "%s asks a wait whether it still runs", fn)
		assert.Equal(t, fn == "ApiFunction", allowed(fn, "states:DescribeExecution", "arn:aws:states:us-east-1:123456789012:execution:MigrationStateMachine-"+cfn.StackName+":m-1"), "%s reads whether its migration's execution runs", fn)
		assert.Equal(t, fn == "ApiFunction", allowed(fn, "states:StartExecution", own), "%s starts executions", fn)
		assert.False(t, allowed(fn, "states:StartExecution", other), "%s: another stack's machine", fn)
	}

	// The state machine: its own functions, its own executions, its bus.
	sm := "MigrationStateMachine"
	for _, fn := range functions[1:7] {
		assert.True(t, allowed(sm, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:"+fn), "invokes %s", fn)
	}
	assert.False(t, allowed(sm, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"))
	assert.True(t, allowed(sm, "states:StartExecution", own), "the Distributed Map starts its children")
	assert.True(t, allowed(sm, "states:StopExecution", "arn:aws:states:us-east-1:123456789012:execution:MigrationStateMachine-"+cfn.StackName+"/Batches:child-1"))
	assert.False(t, allowed(sm, "states:StartExecution", other), "not another stack's machine of the same logical id")
	assert.False(t, allowed(sm, "states:StopExecution", "arn:aws:states:us-east-1:123456789012:execution:MigrationStateMachine-another-stack/Batches:child-1"))
	assert.True(t, allowed(sm, "events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default"))
	assert.False(t, allowed(sm, "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:anything"), "no CloudWatchLogsFullAccess")
	assert.True(t, allowed(sm, "logs:CreateLogDelivery", "*"), "vended log delivery")
	assert.False(t, allowed(sm, "dynamodb:PutItem", dataTableArn), "the machine writes no data itself")

	bulk := "BulkMigrationStateMachine"
	assert.True(t, allowed(bulk, "states:StartExecution", own), "starts the cohort's migrations")
	assert.False(t, allowed(bulk, "states:StartExecution", other))
	assert.True(t, allowed(bulk, "s3:GetObject", "arn:aws:s3:::"+cfn.StackName+"-cohorts-123456789012-us-east-1/cohorts/a.csv"))
	assert.False(t, allowed(bulk, "s3:PutObject", "arn:aws:s3:::"+cfn.StackName+"-cohorts-123456789012-us-east-1/cohorts/a.csv"), "cohorts are read only")
	assert.False(t, allowed(bulk, "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:anything"), "no CloudWatchLogsFullAccess")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
