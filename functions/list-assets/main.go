// Command list-assets is the workflow step: claim the account and count what it holds.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/workflow"
)

func main() {
	steps := workflow.Steps{Migrator: lambdaenv.MustLoad().Migrator}
	lambda.Start(steps.ListAssets)
}
