package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

// The import workflow's roles, as docs/IAM.md cuts them: the function reads
// the input, keeps its runs' files and writes new records (never scans,
// never changes the audit trail); the machine lists the input and invokes
// only the import function.
func TestTemplateImportRolesAsCut(t *testing.T) {
	allowed := roleAllows(t)
	const (
		bucket  = "arn:aws:s3:::" + cfn.StackName + "-imports-123456789012-us-east-1"
		machine = "arn:aws:states:us-east-1:123456789012:stateMachine:" + cfn.StackName + "-import"
	)
	fn := "ImportFunction"
	for _, a := range []string{"GetItem", "BatchGetItem", "Query", "BatchWriteItem", "PutItem", "UpdateItem", "ConditionCheckItem", "DeleteItem"} {
		assert.True(t, allowed(fn, "dynamodb:"+a, dataTableArn), "%s: dynamodb:%s", fn, a)
	}
	for _, never := range []string{"Scan", "DeleteTable", "PartiQLUpdate"} {
		assert.False(t, allowed(fn, "dynamodb:"+never, dataTableArn), "%s: dynamodb:%s", fn, never)
	}
	assert.True(t, allowed(fn, "dynamodb:PutItem", auditTableArn), "late arrivals are audited")
	for _, never := range []string{"UpdateItem", "DeleteItem", "BatchWriteItem"} {
		assert.False(t, allowed(fn, "dynamodb:"+never, auditTableArn), "%s: dynamodb:%s on the audit trail", fn, never)
	}
	assert.True(t, allowed(fn, "s3:GetObject", bucket+"/imports/2026-12-03/a.jsonl"))
	assert.True(t, allowed(fn, "s3:GetObject", bucket+"/runs/import-1/index.json"))
	assert.True(t, allowed(fn, "s3:PutObject", bucket+"/runs/import-1/index.json"))
	assert.False(t, allowed(fn, "s3:PutObject", bucket+"/imports/2026-12-03/a.jsonl"), "the input is never changed")
	assert.False(t, allowed(fn, "s3:DeleteObject", bucket+"/runs/import-1/index.json"))
	assert.True(t, allowed(fn, "s3:ListBucket", bucket))
	assert.False(t, allowed(fn, "states:StartExecution", machine))

	sm := "ImportStateMachine"
	assert.True(t, allowed(sm, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:ImportFunction"))
	assert.False(t, allowed(sm, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:CommitFunction"))
	assert.True(t, allowed(sm, "s3:ListBucket", bucket), "the ItemReader lists the input")
	assert.False(t, allowed(sm, "s3:GetObject", bucket+"/imports/2026-12-03/a.jsonl"), "the records stay out of the state")
	assert.True(t, allowed(sm, "states:StartExecution", machine), "its Distributed Maps' child executions")
	assert.False(t, allowed(sm, "states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:MigrationStateMachine-"+cfn.StackName))
	assert.False(t, allowed(sm, "dynamodb:PutItem", dataTableArn))
}
