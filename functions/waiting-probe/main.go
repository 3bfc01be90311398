// Command waiting-probe runs on a schedule: it publishes the age of the
// oldest batch waiting on a developer, the metric BatchesWaitingTooLong
// alarms on.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/lambdaenv"
	"github.com/devplatform/account-migration/shared/waiting"
)

func main() {
	p := waiting.Prober{Store: lambdaenv.MustLoad().Store}
	lambda.Start(p.Handle)
}
