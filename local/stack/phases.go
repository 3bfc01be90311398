package stack

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/internal/iam"
	"github.com/devplatform/account-migration/local/internal/rie"
	"github.com/devplatform/account-migration/local/jwtlocal"
	"github.com/devplatform/account-migration/local/moto"
)

// The phases of Start, in its order.

// setDefaults fills in what the zero Options leave out (see Options).
func (opts *Options) setDefaults() (err error) {
	if opts.ProjectDir == "" {
		opts.ProjectDir = "."
	}
	if opts.ProjectDir, err = filepath.Abs(opts.ProjectDir); err != nil {
		return err
	}
	if opts.BuildDir == "" {
		opts.BuildDir = filepath.Join(opts.ProjectDir, ".build")
	}
	if opts.BuildDir, err = filepath.Abs(opts.BuildDir); err != nil {
		return err
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = 3
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	if opts.Seed == nil {
		opts.Seed = demo.Snapshot
	}
	if opts.SigningKeyPath == "" {
		opts.SigningKeyPath = filepath.Join(opts.ProjectDir, jwtlocal.DefaultKeyPath)
	}
	return nil
}

// plan is what Start learns and checks before it starts anything.
type plan struct {
	tpl    *cfn.Template
	params map[string]string
	res    *cfn.Resolver
	fns    []*cfn.Resource
	routes []cfn.Route
	key    *rsa.PrivateKey
	roles  []iam.Role // every function's and state machine's role, as template.yaml grants it
}

// newPlan reads the template with its parameters, checks that every
// function's binary is built and loads the JWT signing key.
func newPlan(opts Options) (*plan, error) {
	tpl, err := cfn.Load(filepath.Join(opts.ProjectDir, "template.yaml"))
	if err != nil {
		return nil, err
	}
	overrides := map[string]string{"JwtIssuer": jwtlocal.Issuer}
	for k, v := range opts.Params {
		overrides[k] = v
	}
	params, err := tpl.ParameterValues(overrides)
	if err != nil {
		return nil, err
	}
	p := &plan{tpl: tpl, params: params, res: cfn.NewResolver(tpl, params), fns: tpl.OfType("AWS::Serverless::Function")}
	var missing []string
	for _, fr := range p.fns {
		boot := filepath.Join(opts.BuildDir, fr.ID, "bootstrap")
		if _, err := os.Stat(boot); err != nil {
			missing = append(missing, boot)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("function binaries missing: %v; run `make build-local` first", missing)
	}
	if p.routes, err = p.res.Routes(); err != nil {
		return nil, err
	}
	if p.roles, err = roles(tpl, p.res); err != nil {
		return nil, err
	}
	if p.key, err = jwtlocal.LoadOrCreateKey(opts.SigningKeyPath); err != nil {
		return nil, fmt.Errorf("jwt signing key: %w", err)
	}
	return p, nil
}

// startFunctions starts moto and one emulator pool per function, and returns
// the front that routes invocations to the pools.
func (s *Stack) startFunctions(ctx context.Context, opts Options, p *plan, awsPort int) (*rie.Front, error) {
	// moto and the emulator build are independent: run them side by side.
	rieBin := filepath.Join(opts.BuildDir, "aws-lambda-rie")
	var wg sync.WaitGroup
	var motoErr, buildErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		t := time.Now()
		s.moto, motoErr = moto.Start(ctx, moto.Options{
			LambdaPort: awsPort,
			Stdout:     rie.NewPrefixWriter(opts.Logs, "[moto] "),
			Stderr:     rie.NewPrefixWriter(opts.Logs, "[moto] "),
		})
		slog.Debug("moto up", "took", time.Since(t))
	}()
	go func() {
		defer wg.Done()
		buildErr = rie.BuildEmulator(ctx, moduleDir(opts.ProjectDir), rieBin)
	}()
	wg.Wait()
	if err := errors.Join(motoErr, buildErr); err != nil {
		return nil, err
	}
	s.rieBin = rieBin
	pools, err := s.startPools(ctx, opts, p)
	s.pools = append(s.pools, pools...)
	if err != nil {
		return nil, err
	}
	return rie.NewFront(s.moto.Endpoint, s.pools)
}

// startPools starts one pool per function of the plan, all concurrently,
// and returns those that started (with the errors of the others).
func (s *Stack) startPools(ctx context.Context, opts Options, p *plan) ([]*rie.Pool, error) {
	var wg sync.WaitGroup
	pools := make([]*rie.Pool, len(p.fns))
	errs := make([]error, len(p.fns))
	for i, fr := range p.fns {
		fn, err := p.res.Function(fr)
		if err != nil {
			return nil, err
		}
		alias, err := p.res.Alias(fr)
		if err != nil {
			return nil, err
		}
		var aliases []string
		if alias != "" {
			aliases = []string{alias}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pools[i], errs[i] = rie.StartPool(ctx, s.rieBin, rie.Function{
				Name:      fn.ID,
				Bootstrap: filepath.Join(opts.BuildDir, fn.ID, "bootstrap"),
				Env:       functionEnv(fn, s.awsPort),
				Timeout:   time.Duration(fn.TimeoutSec) * time.Second,
				Aliases:   aliases,
			}, opts.PoolSize, opts.Logs)
		}()
	}
	wg.Wait()
	var out []*rie.Pool
	for _, p := range pools {
		if p != nil {
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}

// deploy creates the template's tables and state machines through the AWS
// endpoint, as `aws --endpoint-url` users see it, and returns the DynamoDB
// client that seeds them.
func (s *Stack) deploy(ctx context.Context, p *plan) (*dynamodb.Client, error) {
	cfg := awsConfig(s.AWSEndpoint)
	db := dynamodb.NewFromConfig(cfg)
	for _, tr := range p.tpl.OfType("AWS::DynamoDB::Table") {
		name, err := createTable(ctx, db, tr, p.res)
		if err != nil {
			return nil, err
		}
		switch {
		case tr.ID == auditTableID:
			s.AuditTableName = name
		case s.TableName == "":
			s.TableName = name
		}
	}
	sf := sfn.NewFromConfig(cfg)
	for _, sr := range p.tpl.OfType("AWS::Serverless::StateMachine") {
		arn, err := createStateMachine(ctx, sf, sr, p.res)
		if err != nil {
			return nil, err
		}
		if s.StateMachineARN == "" {
			s.StateMachineARN = arn
		}
	}
	// The template's buckets, as CloudFormation creates them (cohorts,
	// manifests): their names resolve as the functions' environment has them.
	bs := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, br := range p.tpl.OfType("AWS::S3::Bucket") {
		name, err := createBucket(ctx, bs, br, p.res)
		if err != nil {
			return nil, err
		}
		if br.ID == manifestBucketID {
			s.ManifestBucket = name
		}
	}
	if s.TableName == "" {
		return nil, errors.New("template has no AWS::DynamoDB::Table to seed")
	}
	return db, nil
}

// roles resolves the IAM role SAM creates for every function and state
// machine: the local AWS endpoint lets each call only what its role allows.
func roles(tpl *cfn.Template, res *cfn.Resolver) ([]iam.Role, error) {
	var out []iam.Role
	for _, typ := range []string{"AWS::Serverless::Function", "AWS::Serverless::StateMachine"} {
		for _, r := range tpl.OfType(typ) {
			docs, err := res.RolePolicies(r)
			if err != nil {
				return nil, err
			}
			role := iam.Role{Name: r.ID}
			for _, d := range docs {
				p, err := iam.ParsePolicy(r.ID+"/"+d.Name, d.Document)
				if err != nil {
					return nil, err
				}
				role.Policies = append(role.Policies, p)
			}
			out = append(out, role)
		}
	}
	return out, nil
}
