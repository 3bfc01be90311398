// Command commit is the workflow step: park the wait for confirmation, then
// move the batch and hand its list over (the manifest) once it has moved.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/eventbus"
	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/s3store"
	"github.com/devplatform/account-migration/shared/workflow"
)

func main() {
	env := lambdaenv.MustLoad()
	env.Migrator.Events = eventbus.FromEnv(env.AWS)
	env.Migrator.Manifests = s3store.FromEnv(env.AWS)
	steps := workflow.Steps{Migrator: env.Migrator, MoveBudget: env.MoveBudget}
	lambda.Start(steps.Commit)
}
