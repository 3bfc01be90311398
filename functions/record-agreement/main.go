// Command record-agreement is the workflow step: park the wait for the agreement.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/workflow"
)

func main() {
	steps := workflow.Steps{Migrator: lambdaenv.MustLoad().Migrator}
	lambda.Start(steps.RecordAgreement)
}
