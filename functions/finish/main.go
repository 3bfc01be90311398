// Command finish is the workflow step: expire or fail a batch, or summarise the migration.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/workflow"
)

func main() {
	steps := workflow.Steps{Migrator: lambdaenv.MustLoad().Migrator}
	lambda.Start(steps.Finish)
}
