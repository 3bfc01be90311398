package stack

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

// auditTableID is the logical id of the audit trail's table in template.yaml.
const auditTableID = "AuditTable"

// DeployTable creates template.yaml's DynamoDB tables on db, exactly as Start
// does, and returns the data table's name. Integration tests of the store use
// it so they run against the schema that deploys, not a copy of it.
func DeployTable(ctx context.Context, db *dynamodb.Client, projectDir string) (string, error) {
	data, _, err := DeployTables(ctx, db, projectDir)
	return data, err
}

// DeployTables is DeployTable returning the audit table's name too.
func DeployTables(ctx context.Context, db *dynamodb.Client, projectDir string) (data, audit string, err error) {
	tpl, err := cfn.Load(filepath.Join(projectDir, "template.yaml"))
	if err != nil {
		return "", "", err
	}
	params, err := tpl.ParameterValues(nil)
	if err != nil {
		return "", "", err
	}
	r := cfn.NewResolver(tpl, params)
	for _, tr := range tpl.OfType("AWS::DynamoDB::Table") {
		name, err := createTable(ctx, db, tr, r)
		if err != nil {
			return "", "", err
		}
		if tr.ID == auditTableID {
			audit = name
		} else if data == "" {
			data = name
		}
	}
	if data == "" || audit == "" {
		return "", "", fmt.Errorf("template has no data table or no %s", auditTableID)
	}
	return data, audit, nil
}
