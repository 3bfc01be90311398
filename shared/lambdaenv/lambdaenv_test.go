package lambdaenv

import (
	"context"
	"strconv"
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

// A deadline that cannot fit in one Standard execution (a year) with the
// move after it is refused at init: the function does not start, rather
// than park waits AWS would cut short mid-move. The largest that fits passes.
func TestPendingTimeoutMustFitOneExecutionWithTheMove(t *testing.T) {
	for _, tc := range []struct {
		seconds string
		ok      bool
	}{
		{"2", true},
		{"2592000", true},
		{"31449600", true},  // 364 days: a year less the move's day
		{"31449601", false}, // one second more
		{"31536000", false}, // a whole year leaves the move no time
		{"31622400", false}, // what the template allowed before: 366 days
		{"0", false},
		{"-5", false},
		{"30d", false},
	} {
		t.Run(tc.seconds, func(t *testing.T) {
			lambdaEnv(t)
			t.Setenv("PENDING_TIMEOUT_SECONDS", tc.seconds)
			env, err := Load(context.Background())
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, tc.seconds, strconv.FormatInt(int64(env.Migrator.PendingTimeout.Seconds()), 10))
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "PENDING_TIMEOUT_SECONDS")
		})
	}
}
