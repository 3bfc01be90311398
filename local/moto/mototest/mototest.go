// Package mototest starts moto for tests and builds SDK configs pointing at it.
package mototest

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/devplatform/account-migration/local/moto"
)

// Start runs a fresh moto for the test and stops it in t.Cleanup. It fails
// the test (never skips) when moto cannot start. moto's output goes to the
// test log only with MOTO_VERBOSE=1, to keep failures readable.
func Start(t testing.TB) *moto.Server {
	t.Helper()
	return StartWith(t, moto.Options{})
}

// StartWith is Start with options (Lenient: moto's Step Functions as shipped).
func StartWith(t testing.TB, opts moto.Options) *moto.Server {
	t.Helper()
	if os.Getenv("MOTO_VERBOSE") != "" {
		opts.Stderr = os.Stderr
		opts.Stdout = os.Stderr
	}
	srv, err := moto.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start moto: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("stop moto: %v", err)
		}
	})
	return srv
}

// AWSConfig is an aws-sdk-go-v2 config for moto at endpoint: static test
// credentials, us-east-1, BaseEndpoint = endpoint, the SDK's default retryer.
// It is built directly rather than with config.LoadDefaultConfig so neither
// a developer's profile nor AWS_ENDPOINT_URL* in the environment can redirect
// a test to real AWS.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", "")),
		BaseEndpoint: aws.String(endpoint),
	}
}
