// Command api serves the developer HTTP API behind API Gateway.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/devplatform/account-migration/shared/httpapi"
	"github.com/devplatform/account-migration/shared/lambdaenv"
)

func main() {
	env := lambdaenv.MustLoad()
	api := &httpapi.API{Migrator: env.Migrator, Idempotency: env.Store.Idempotency, Ops: env.Store.OpsReads, Log: env.Log, Release: lambdaenv.Release}
	lambda.Start(api.Handle)
}
