// Command select-target is the workflow step: park the wait for the target account.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/eventbus"
	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/workflow"
)

func main() {
	env := lambdaenv.MustLoad()
	env.Migrator.Events = eventbus.FromEnv(env.AWS) // BatchWaiting when the wait starts
	steps := workflow.Steps{Migrator: env.Migrator}
	lambda.Start(steps.SelectTarget)
}
