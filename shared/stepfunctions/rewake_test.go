package stepfunctions_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/faultproxy"
	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/stepfunctions"
)

// listed answers BatchesInState from a fixed list.
type listed []migration.Batch

func (l listed) BatchesInState(_ context.Context, st migration.BatchState, before time.Time, _ int) ([]migration.Batch, error) {
	var out []migration.Batch
	for _, b := range l {
		if at, _ := time.Parse(time.RFC3339Nano, b.UpdatedAt); b.State == st && at.Before(before) {
			out = append(out, b)
		}
	}
	return out, nil
}

// A wake whose SendTaskSuccess fails for good (every attempt throttled, as in
// a cohort burst) leaves the wait parked; the waiting probe's Rewake delivers
// it once Step Functions answers again, and running it again changes nothing.
func TestAWakeThrottledForGoodIsDeliveredLater(t *testing.T) {
	srv := mototest.Start(t)
	direct := sfn.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
	exArn, token := parkedWait(t, direct)

	proxy, err := faultproxy.Start(srv.Endpoint, faultproxy.Options{Seed: 1})
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	// Short back-off, so the SDK's attempts run out in well under a second.
	viaProxy := sfn.NewFromConfig(mototest.AWSConfig(proxy.URL), func(o *sfn.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = 20 * time.Millisecond })
	})
	c := &stepfunctions.Client{API: viaProxy}
	proxy.SetRules(faultproxy.Rule{Kind: faultproxy.Throttle, Operations: []string{"SendTaskSuccess"}, Probability: 1,
		Code: faultproxy.CodeThrottling})

	ctx := context.Background()
	require.Error(t, c.Succeed(ctx, token, map[string]any{}), "every attempt throttled: the wake fails for good")
	assert.Equal(t, 8, proxy.Counts().Injected(), "the wake tried eight times, not the SDK's default three")
	status := func() sfntypes.ExecutionStatus {
		d, err := direct.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exArn)})
		require.NoError(t, err)
		return d.Status
	}
	assert.Equal(t, sfntypes.ExecutionStatusRunning, status(), "the workflow has not heard")

	now := time.Now()
	m := migration.New(migration.Deps{Signal: c, Now: func() time.Time { return now }})
	// The developer's step is done (AWAITING_TARGET), the wait for it still parked.
	batches := listed{{MigrationID: "m-1", BatchID: "b-1", State: migration.AwaitingTarget, CreatedAt: now.Add(-time.Hour).Format(time.RFC3339Nano),
		UpdatedAt: now.Add(-5 * time.Minute).Format(time.RFC3339Nano), Tokens: map[migration.Step]string{migration.StepAgreement: token}}}
	n, err := m.Rewake(ctx, batches)
	require.NoError(t, err)
	assert.Zero(t, n, "still throttled: nothing delivered, the next run tries again")

	proxy.SetRules()
	n, err = m.Rewake(ctx, batches)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "delivered once Step Functions answers")
	for deadline := time.Now().Add(30 * time.Second); status() == sfntypes.ExecutionStatusRunning; time.Sleep(100 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the workflow never heard the wake")
	}
	assert.Equal(t, sfntypes.ExecutionStatusSucceeded, status())

	n, err = m.Rewake(ctx, batches)
	require.NoError(t, err)
	assert.Zero(t, n, "a wake already heard is refused by Step Functions: sending it again changes nothing")
}
