package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/local/internal/apigw"
	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/internal/iam"
	"github.com/devplatform/account-migration/local/internal/rie"
	"github.com/devplatform/account-migration/local/jwtlocal"
)

// DeployOptions name the build Deploy puts into a running stack: a
// template.yaml and the binaries `make build-local` made from the same tree.
type DeployOptions struct {
	ProjectDir string            // where template.yaml is
	BuildDir   string            // BuildDir/<LogicalId>/bootstrap; default ProjectDir/.build
	Params     map[string]string // template parameters, as Options.Params
}

// Deploy updates the running stack in place to another build, as `sam
// deploy` updates a CloudFormation stack, and keeps its data: tables,
// buckets, executions and their task tokens.
//
//   - Tables and buckets the template adds are created; existing ones stay
//     as they are (a table whose keys changed is an error: CloudFormation
//     would replace it, and the template retains tables).
//   - Every function runs the new bootstrap with the new environment and
//     role: a fresh pool of emulators takes every invoke from now on, while
//     the invokes already running on the old code finish there (as a Lambda
//     version's do after its alias moved). A function the template dropped
//     stops once its invokes end.
//   - Each state machine gets the new definition (UpdateStateMachine): new
//     executions run it; running ones keep the definition they started with
//     and call the new code, as on AWS.
//   - The HTTP API serves the new template's routes.
//
// The gradual shift of a DeploymentPreference is not played locally: the
// alias moves at once, the strictest case for the executions in flight.
func (s *Stack) Deploy(ctx context.Context, d DeployOptions) error {
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	began := time.Now()
	opts := s.opts
	opts.ProjectDir, opts.BuildDir, opts.Params = d.ProjectDir, d.BuildDir, d.Params
	if err := opts.setDefaults(); err != nil {
		return err
	}
	p, err := newPlan(opts)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", opts.ProjectDir, err)
	}
	cfg := awsConfig(s.AWSEndpoint)

	// What the new code needs exists before it runs.
	if err := s.deployStorage(ctx, cfg, p); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	pools, err := s.startPools(ctx, opts, p)
	s.pools = append(s.pools, pools...)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	enforcer := iam.NewEnforcer(iam.Account{Region: cfn.Region, ID: cfn.AccountID}, p.roles)
	s.enforcers = append(s.enforcers, enforcer)
	s.iam = enforcer
	s.awsHandler.set(enforcer.Handler(s.front))

	kept := map[string]bool{}
	for _, np := range pools {
		kept[np.Name()] = true
		if old := s.front.Replace(np); old != nil {
			s.drain(old)
		}
	}
	for _, old := range s.front.Pools() {
		if !kept[old.Name()] {
			s.front.Remove(old.Name())
			s.drain(old)
		}
	}

	sf := sfn.NewFromConfig(cfg)
	s.StateMachineARN = ""
	for _, sr := range p.tpl.OfType("AWS::Serverless::StateMachine") {
		arn, err := updateStateMachine(ctx, sf, sr, p.res)
		if err != nil {
			return fmt.Errorf("deploy: %w", err)
		}
		if s.StateMachineARN == "" {
			s.StateMachineARN = arn
		}
	}

	s.auth = &jwtlocal.Authority{Key: p.key, Issuer: p.params["JwtIssuer"], Audience: p.params["JwtAudience"]}
	api := apigw.New(p.routes, s.auth, s.front)
	devAccounts, err := apigw.DevAccounts(s.opts.Seed)
	if err != nil {
		return err
	}
	api.EnableDevSignIn(devAccounts)
	api.SetReady()
	s.apiHandler.set(api)
	s.opts = opts
	slog.Info("local stack deployed", "template", p.tpl.Path, "functions", len(pools), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// drain lets a replaced pool finish its invokes, then stops it (bounded by
// the function's own timeout and a margin, as an invoke is).
func (s *Stack) drain(p *rie.Pool) {
	s.drains.Add(1)
	go func() {
		defer s.drains.Done()
		ctx, cancel := context.WithTimeout(context.Background(), p.Function().Timeout+time.Minute)
		defer cancel()
		if err := p.Drain(ctx); err != nil {
			slog.Error("stop a replaced function", "function", p.Name(), "err", err)
		}
	}()
}

// deployStorage creates the tables and buckets the running stack lacks.
func (s *Stack) deployStorage(ctx context.Context, cfg aws.Config, p *plan) error {
	db := dynamodb.NewFromConfig(cfg)
	for _, tr := range p.tpl.OfType("AWS::DynamoDB::Table") {
		in, _, err := createTableInput(tr, p.res)
		if err != nil {
			return err
		}
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		var missing *dbtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &missing):
			if _, err := createTable(ctx, db, tr, p.res); err != nil {
				return err
			}
			if tr.ID == auditTableID {
				s.AuditTableName = *in.TableName
			}
		case err != nil:
			return fmt.Errorf("table %s: %w", *in.TableName, err)
		case !sameKeys(out.Table.KeySchema, in.KeySchema):
			return fmt.Errorf("table %s: its key schema changed; CloudFormation would replace it, which the local stack does not (and the template retains tables)", *in.TableName)
		}
	}
	bs := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, br := range p.tpl.OfType("AWS::S3::Bucket") {
		name, err := p.res.BucketName(br)
		if err != nil {
			return err
		}
		if _, err := bs.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
			continue
		}
		if _, err := createBucket(ctx, bs, br, p.res); err != nil {
			return err
		}
		if br.ID == manifestBucketID {
			s.ManifestBucket = name
		}
	}
	return nil
}

// updateStateMachine gives an existing machine its new definition and role
// (UpdateStateMachine), or creates one the template adds.
func updateStateMachine(ctx context.Context, sf *sfn.Client, res *cfn.Resource, r *cfn.Resolver) (string, error) {
	name, err := r.StateMachineName(res)
	if err != nil {
		return "", err
	}
	arn := cfn.StateMachineArn(name)
	_, err = sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	var missing *sfntypes.StateMachineDoesNotExist
	if errors.As(err, &missing) {
		return createStateMachine(ctx, sf, res, r)
	}
	if err != nil {
		return "", fmt.Errorf("state machine %s: %w", name, err)
	}
	def, err := r.Definition(res)
	if err != nil {
		return "", err
	}
	if _, err := sf.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
		StateMachineArn: aws.String(arn),
		Definition:      aws.String(def),
		RoleArn:         aws.String(roleArn(res.ID)),
	}); err != nil {
		return "", fmt.Errorf("update state machine %s: %w", name, err)
	}
	return arn, nil
}

func sameKeys(a, b []dbtypes.KeySchemaElement) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if aws.ToString(a[i].AttributeName) != aws.ToString(b[i].AttributeName) || a[i].KeyType != b[i].KeyType {
			return false
		}
	}
	return true
}
