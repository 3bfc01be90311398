// Command import is the import workflow's step: scan, check or write one
// object of the input under the import prefix, or gather what the objects'
// invocations found (shared/importer: the checks and writes of opsctl import).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/lambdaenv"
)

func main() {
	env := lambdaenv.MustLoad()
	bucket := os.Getenv("IMPORT_BUCKET")
	if bucket == "" {
		env.Log.Error("init failed", "error", "IMPORT_BUCKET is not set")
		os.Exit(1)
	}
	// Path-style when AWS_ENDPOINT_URL points at the local stack.
	client := s3.NewFromConfig(env.AWS, func(o *s3.Options) { o.UsePathStyle = env.AWS.BaseEndpoint != nil })
	steps := &importer.Steps{S3: client, Bucket: bucket, Owner: os.Getenv("IMPORT_BUCKET_OWNER"), Table: env.Store.ImportTable(), Lease: env.Store.ImportLease(), LeaseFor: dynamostore.ImportLease}
	lambda.Start(steps.Handle)
}
