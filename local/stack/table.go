package stack

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

// DeployTable creates template.yaml's DynamoDB table on db, exactly as Start
// does, and returns its name. Integration tests of the store use it so they
// run against the schema that deploys, not a copy of it.
func DeployTable(ctx context.Context, db *dynamodb.Client, projectDir string) (string, error) {
	tpl, err := cfn.Load(filepath.Join(projectDir, "template.yaml"))
	if err != nil {
		return "", err
	}
	params, err := tpl.ParameterValues(nil)
	if err != nil {
		return "", err
	}
	tables := tpl.OfType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		return "", fmt.Errorf("template has %d tables; expected 1", len(tables))
	}
	return createTable(ctx, db, tables[0], cfn.NewResolver(tpl, params))
}
