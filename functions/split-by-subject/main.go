// Command split-by-subject is the workflow step: one batch per subject and target platform.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/workflow"
)

func main() {
	steps := workflow.Steps{Migrator: lambdaenv.MustLoad().Migrator}
	lambda.Start(steps.SplitBySubject)
}
