// Command commit is the workflow step: park the wait for confirmation, then move the batch.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/workflow"
)

func main() {
	env := lambdaenv.MustLoad()
	steps := workflow.Steps{Migrator: env.Migrator, MoveBudget: env.MoveBudget}
	lambda.Start(steps.Commit)
}
