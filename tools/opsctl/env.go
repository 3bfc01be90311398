package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go/logging"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/stepfunctions"
)

// defaultStateMachineName is the template's logical id: the local stack uses
// it as the name, CloudFormation as the prefix of the name.
const defaultStateMachineName = "MigrationStateMachine"

// globalFlags are the flags every command takes.
type globalFlags struct {
	set             bool
	endpoint        string
	region          string
	table           string
	auditTable      string
	stateMachineArn string
	output          outputFormat
}

// register adds the global flags to fs. Their defaults are the values already
// parsed, so `opsctl --table X show ...` keeps X when show parses its flags.
func (g *globalFlags) register(fs *flag.FlagSet) {
	if !g.set {
		g.set = true
		g.table = envOr("TABLE_NAME", "MigrationTable")
		g.auditTable = envOr("AUDIT_TABLE_NAME", "AuditTable")
		g.stateMachineArn = os.Getenv("STATE_MACHINE_ARN")
	}
	fs.StringVar(&g.endpoint, "endpoint-url", g.endpoint, "AWS endpoint (the local stack: http://127.0.0.1:4566); default: AWS_ENDPOINT_URL or AWS itself")
	fs.StringVar(&g.region, "region", g.region, "AWS region; default: AWS_REGION / the profile's region (us-east-1 for a local endpoint)")
	fs.StringVar(&g.table, "table", g.table, "DynamoDB table (the stack's TableName output); env TABLE_NAME")
	fs.StringVar(&g.auditTable, "audit-table", g.auditTable, "DynamoDB audit table (the stack's AuditTableName output); env AUDIT_TABLE_NAME")
	fs.StringVar(&g.stateMachineArn, "state-machine-arn", g.stateMachineArn, "state machine (the stack's StateMachineArn output); env STATE_MACHINE_ARN; default: the one named MigrationStateMachine*")
	fs.Var(&g.output, "output", "`json|text`: what the command prints on stdout; default: the command's own (opsctl help <command>)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// awsEnv is the AWS wiring of one run.
type awsEnv struct {
	cfg      aws.Config
	db       *dynamodb.Client
	sf       *sfn.Client
	store    *dynamostore.Store
	migrator *migration.Migrator
	smArn    string
}

// env builds the AWS clients on first use, so `opsctl -h` needs no AWS.
func (c *cli) env(ctx context.Context) (*awsEnv, error) {
	if c.aws != nil {
		return c.aws, nil
	}
	cfg, err := loadAWSConfig(ctx, c.g)
	if err != nil {
		return nil, err
	}
	e := &awsEnv{cfg: cfg, db: dynamodb.NewFromConfig(cfg), sf: sfn.NewFromConfig(cfg), smArn: c.g.stateMachineArn}
	e.store = dynamostore.New(e.db, c.g.table).WithAuditTable(c.g.auditTable)
	e.migrator = migration.New(migration.Deps{Store: e.store, Signal: &stepfunctions.Client{API: e.sf, StateMachineArn: e.smArn}})
	c.aws = e
	return e, nil
}

// parseEnv parses a command's flags, then builds the AWS wiring it runs on.
func (c *cli) parseEnv(ctx context.Context, fs *flag.FlagSet, args []string) (*awsEnv, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	return c.env(ctx)
}

// loadAWSConfig is the aws CLI's configuration (environment, profile, SSO),
// with --region and --endpoint-url on top. A loopback endpoint is the local
// stack: it gets a region and moto's test credentials when none are set, so
// `make run` users need no AWS setup, and a real profile is never sent there
// unless asked for.
func loadAWSConfig(ctx context.Context, g globalFlags) (aws.Config, error) {
	endpoint := g.endpoint
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	var opts []func(*config.LoadOptions) error
	if g.region != "" {
		opts = append(opts, config.WithRegion(g.region))
	}
	local := isLoopback(endpoint)
	if local && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	if g.endpoint != "" {
		cfg.BaseEndpoint = aws.String(g.endpoint)
	}
	// The SDK's own warnings (a retried response, say) would land in the
	// middle of the progress bar; what matters comes back as errors.
	cfg.Logger = logging.Nop{}
	if cfg.Region == "" {
		if !local {
			return aws.Config{}, errors.New("no AWS region: set AWS_REGION, a profile region or --region")
		}
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

func isLoopback(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// stateMachine is --state-machine-arn, or the deployed state machine named
// MigrationStateMachine (local) or MigrationStateMachine-<suffix> (CloudFormation).
func (e *awsEnv) stateMachine(ctx context.Context) (string, error) {
	if e.smArn != "" {
		return e.smArn, nil
	}
	var found []string
	p := sfn.NewListStateMachinesPaginator(e.sf, &sfn.ListStateMachinesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list state machines: %w", err)
		}
		for _, sm := range page.StateMachines {
			n := aws.ToString(sm.Name)
			if n == defaultStateMachineName || strings.HasPrefix(n, defaultStateMachineName+"-") {
				found = append(found, aws.ToString(sm.StateMachineArn))
			}
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("found %d state machines named %s*; pass --state-machine-arn (the stack's StateMachineArn output)", len(found), defaultStateMachineName)
	}
	e.smArn = found[0]
	e.migrator.Signal = &stepfunctions.Client{API: e.sf, StateMachineArn: e.smArn}
	return e.smArn, nil
}
