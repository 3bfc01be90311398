// Package lambdaenv builds what every function needs from its environment:
// the Lambda-aware JSON logger, the AWS clients (AWS_ENDPOINT_URL points them
// elsewhere, which is how the local stack points them at moto) and the use
// cases over the DynamoDB store and Step Functions.
package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/metrics"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/stepfunctions"
)

// Release is the release the binary was built from, as `git describe --tags
// --always --dirty` names it (v1.4.0, or v1.4.0-3-gabc1234 three commits
// after it, -dirty from uncommitted changes). The Makefile sets it:
// -ldflags "-X github.com/devplatform/account-migration/shared/lambdaenv.Release=...".
var Release = "unknown"

// Env is one function's wiring.
type Env struct {
	Migrator *migration.Migrator
	Store    *dynamostore.Store
	Log      *slog.Logger
	// AWS is the SDK configuration, for a function that needs another
	// client (each adapter's FromEnv), kept out of every other binary.
	AWS aws.Config
	// MoveBudget is how long one Move invocation works before it hands back
	// to the workflow (MOVE_INVOCATION_SECONDS); 0 when unset.
	MoveBudget time.Duration
}

// Load reads the environment. TABLE_NAME and AUDIT_TABLE_NAME are required
// (the audit trail has a table of its own, which the functions may only add
// to); STATE_MACHINE_ARN only for functions that start executions.
func Load(ctx context.Context) (*Env, error) {
	// Every line names the release that wrote it: during a release's canary
	// two answer at once (docs/OPS.md, "Releasing during a campaign"). A
	// line of its own at init would be the one line without a request id.
	log := lambdacontext.NewLogger().With("release", Release)
	slog.SetDefault(log)
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return nil, fmt.Errorf("TABLE_NAME is not set")
	}
	audit := os.Getenv("AUDIT_TABLE_NAME")
	if audit == "" {
		return nil, fmt.Errorf("AUDIT_TABLE_NAME is not set")
	}
	cfg, err := awsConfig()
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), table).WithAuditTable(audit)
	sf := &stepfunctions.Client{API: sfn.NewFromConfig(cfg), StateMachineArn: os.Getenv("STATE_MACHINE_ARN")}
	d := migration.Deps{Store: store, Signal: sf, Starter: sf, Outcomes: metrics.Outcomes{}}
	if v, err := strconv.Atoi(os.Getenv("COMMIT_OVERDUE_SECONDS")); err == nil && v > 0 {
		d.CommitOverdue = time.Duration(v) * time.Second
	}
	if raw := os.Getenv("PENDING_TIMEOUT_SECONDS"); raw != "" {
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("PENDING_TIMEOUT_SECONDS=%q: %w", raw, err)
		}
		d.PendingTimeout = time.Duration(v) * time.Second
		if err := migration.CheckPendingTimeout(d.PendingTimeout); err != nil {
			return nil, fmt.Errorf("PENDING_TIMEOUT_SECONDS=%s: %w", raw, err)
		}
	}
	env := &Env{Migrator: migration.New(d), Store: store, Log: log, AWS: cfg}
	if v := os.Getenv("MOVE_INVOCATION_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("MOVE_INVOCATION_SECONDS must be a whole number of seconds above 0, not %q", v)
		}
		env.MoveBudget = time.Duration(n) * time.Second
	}
	return env, nil
}

// awsConfig is the SDK configuration from what Lambda puts in the
// environment: the region, the execution role's credentials and, locally,
// AWS_ENDPOINT_URL. config.LoadDefaultConfig would find the same here, but it
// links and initialises every other source too (shared config files, SSO,
// STS, IMDS, ...): 1.9 MB of each arm64 binary and a good part of its cold
// start (BENCHMARKS.md). Like the SDK's environment provider, this reads the
// credentials once: Lambda keeps them valid for the sandbox's life.
func awsConfig() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("AWS_REGION is not set")
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN"))),
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// MustLoad is Load for main: a function that cannot wire itself cannot serve.
func MustLoad() *Env {
	env, err := Load(context.Background())
	if err != nil {
		slog.Error("init failed", "error", err)
		os.Exit(1)
	}
	return env
}
