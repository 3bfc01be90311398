package lambdaenv

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lambdaEnv sets what Lambda (or the local stack) gives a function.
func lambdaEnv(t *testing.T) {
	t.Setenv("TABLE_NAME", "migrations")
	t.Setenv("AUDIT_TABLE_NAME", "audit")
	t.Setenv("AWS_REGION", "ap-southeast-1")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "session")
	t.Setenv("AWS_ENDPOINT_URL", "")
}

// The functions sign with the execution role's credentials from the
// environment, in the function's region; the local stack redirects them with
// AWS_ENDPOINT_URL.
func TestConfigFromLambdaEnvironment(t *testing.T) {
	lambdaEnv(t)
	cfg, err := awsConfig()
	require.NoError(t, err)
	assert.Equal(t, "ap-southeast-1", cfg.Region)
	assert.Nil(t, cfg.BaseEndpoint, "real AWS endpoints unless told otherwise")
	creds, err := cfg.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "AKIDEXAMPLE", creds.AccessKeyID)
	assert.Equal(t, "secret", creds.SecretAccessKey)
	assert.Equal(t, "session", creds.SessionToken)

	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	cfg, err = awsConfig()
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", cfg.Region)
	assert.Equal(t, "http://127.0.0.1:4566", aws.ToString(cfg.BaseEndpoint))

	env, err := Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "migrations", env.Store.Table())
	assert.Equal(t, "audit", env.Store.AuditTable())
}

// A function without a region or credentials refuses to start rather than
// sign requests nobody can accept.
func TestConfigRefusesIncompleteEnvironment(t *testing.T) {
	for _, unset := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Run(unset, func(t *testing.T) {
			lambdaEnv(t)
			t.Setenv(unset, "")
			_, err := awsConfig()
			assert.ErrorContains(t, err, unset)
		})
	}
	lambdaEnv(t)
	t.Setenv("TABLE_NAME", "")
	_, err := Load(context.Background())
	assert.ErrorContains(t, err, "TABLE_NAME")
	lambdaEnv(t)
	t.Setenv("AUDIT_TABLE_NAME", "")
	_, err = Load(context.Background())
	assert.ErrorContains(t, err, "AUDIT_TABLE_NAME")
}

// MOVE_INVOCATION_SECONDS (the template's MoveInvocationSeconds) bounds one
// Move invocation; a value that is not a positive number stops the function
// at init rather than move without a bound.
func TestMoveBudgetFromEnvironment(t *testing.T) {
	lambdaEnv(t)
	t.Setenv("MOVE_INVOCATION_SECONDS", "")
	env, err := Load(context.Background())
	require.NoError(t, err)
	assert.Zero(t, env.MoveBudget, "unset: bounded by the Lambda's deadline only")

	t.Setenv("MOVE_INVOCATION_SECONDS", "2")
	env, err = Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, env.MoveBudget)

	for _, bad := range []string{"0", "-5", "two", "2.5"} {
		t.Setenv("MOVE_INVOCATION_SECONDS", bad)
		_, err = Load(context.Background())
		assert.ErrorContains(t, err, "MOVE_INVOCATION_SECONDS", bad)
	}
}
