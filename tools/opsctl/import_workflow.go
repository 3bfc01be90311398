package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/shared/importer"
)

// importMachineSuffix names the stack's import workflow: <stack>-import.
const importMachineSuffix = "-import"

// importWorkflow is `opsctl import s3://bucket/imports/...`: it starts the
// stack's import workflow on the prefix (the objects are read by the
// workflow, in AWS, one invocation each) and follows it: progress on
// stderr, the summary on stdout, each refused record named.
type importWorkflow struct {
	c      *cli
	env    *awsEnv
	s3     *s3.Client
	arn    string
	bucket string
	prefix string
	dryRun bool
	bar    *importBar
	// poll is how often it looks at the run (tests shorten it).
	poll time.Duration
}

func (c *cli) newImportWorkflow(ctx context.Context, env *awsEnv, arg, arn string, dryRun bool) (*importWorkflow, error) {
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(arg, "s3://"), "/")
	if !strings.HasPrefix(prefix, "imports/") {
		return nil, fmt.Errorf("%s: the import workflow reads only imports/ of the stack's import bucket (ImportBucketName output): put the files under s3://%s/imports/<name>/, or read them from here with --local-read", arg, bucket)
	}
	w := &importWorkflow{c: c, env: env, bucket: bucket, prefix: prefix, dryRun: dryRun, bar: newImportBar(c.stderr), poll: 2 * time.Second,
		s3: s3.NewFromConfig(env.cfg, func(o *s3.Options) { o.UsePathStyle = c.g.endpoint != "" })}
	var err error
	if w.arn, err = w.machine(ctx, arn); err != nil {
		return nil, err
	}
	return w, w.checkBucket(ctx)
}

// machine is --import-state-machine-arn, or the one state machine named
// <stack>-import.
func (w *importWorkflow) machine(ctx context.Context, arn string) (string, error) {
	if arn != "" {
		return arn, nil
	}
	var found []string
	p := sfn.NewListStateMachinesPaginator(w.env.sf, &sfn.ListStateMachinesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list state machines: %w", err)
		}
		for _, sm := range page.StateMachines {
			if strings.HasSuffix(aws.ToString(sm.Name), importMachineSuffix) {
				found = append(found, aws.ToString(sm.StateMachineArn))
			}
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("found %d state machines named *%s; pass --import-state-machine-arn (the stack's ImportStateMachineArn output)", len(found), importMachineSuffix)
	}
	return found[0], nil
}

// checkBucket refuses a bucket the workflow does not read: it reads its
// stack's import bucket only (its definition names it).
func (w *importWorkflow) checkBucket(ctx context.Context) error {
	d, err := w.env.sf.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(w.arn)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", w.arn, err)
	}
	var def struct {
		States map[string]struct {
			ItemReader struct {
				Parameters struct{ Bucket string }
			}
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Definition)), &def); err != nil {
		return fmt.Errorf("%s: definition: %w", w.arn, err)
	}
	if b := def.States["Scan"].ItemReader.Parameters.Bucket; b != w.bucket {
		return fmt.Errorf("the import workflow reads the bucket %s, not %s: put the files under s3://%s/imports/<name>/", b, w.bucket, b)
	}
	return nil
}

// run starts the workflow and follows it to its end.
func (w *importWorkflow) run(ctx context.Context) (int, error) {
	var suffix [3]byte
	_, _ = rand.Read(suffix[:])
	name := "import-" + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(suffix[:])
	input, _ := json.Marshal(map[string]any{"prefix": w.prefix, "dryRun": w.dryRun})
	out, err := w.env.sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(w.arn), Name: aws.String(name), Input: aws.String(string(input))})
	if err != nil {
		return exitError, fmt.Errorf("start the import workflow: %w", err)
	}
	exec := aws.ToString(out.ExecutionArn)
	fmt.Fprintf(w.c.stderr, "import workflow started: %s (its files: s3://%s/%s)\n", exec, w.bucket, importer.RunPrefix(name))
	d, err := w.follow(ctx, exec, name)
	w.bar.finish()
	if err != nil {
		return exitError, fmt.Errorf("%w (the workflow goes on without opsctl: aws stepfunctions describe-execution --execution-arn %s)", err, exec)
	}
	switch d.Status {
	case sfntypes.ExecutionStatusSucceeded:
		fmt.Fprintf(w.c.stdout, "%s\n", aws.ToString(d.Output))
		return exitOK, nil
	case sfntypes.ExecutionStatusFailed:
		if aws.ToString(d.Error) == "RecordsRefused" {
			return w.refused(ctx, name)
		}
	}
	return exitError, fmt.Errorf("the import workflow ended %s: %s: %s (what was written stays; run the same import again to finish it)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
}

// follow polls the execution and the run's progress until it ends.
func (w *importWorkflow) follow(ctx context.Context, exec, name string) (*sfn.DescribeExecutionOutput, error) {
	for {
		d, err := w.env.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
		if err != nil {
			return nil, err
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return d, nil
		}
		if p, err := importer.RunProgress(ctx, w.s3, w.bucket, name); err == nil {
			w.bar.update(p.Phase, p.Done, p.Total)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(w.poll):
		}
	}
}

// refused names each refused record (the run's refused.jsonl) and prints
// the summary.
func (w *importWorkflow) refused(ctx context.Context, name string) (int, error) {
	p := importer.RunPrefix(name)
	obj, err := w.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(p + "refused.jsonl")})
	if err != nil {
		return exitError, fmt.Errorf("records were refused, but their list s3://%s/%srefused.jsonl cannot be read: %w", w.bucket, p, err)
	}
	rs, err := importer.ReadRefusals(obj.Body)
	obj.Body.Close()
	if err != nil {
		return exitError, err
	}
	for _, r := range rs {
		fmt.Fprintf(w.c.stderr, "refused: %s\n", r)
	}
	if sum, err := w.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(p + "summary.json")}); err == nil {
		var s importer.Summary
		if json.NewDecoder(sum.Body).Decode(&s) == nil {
			if out, err := json.Marshal(s); err == nil {
				fmt.Fprintf(w.c.stdout, "%s\n", out)
			}
		}
		sum.Body.Close()
	}
	fmt.Fprintf(w.c.stderr, "opsctl import: %d record(s) refused; nothing was written. Fix them (docs/OPS.md) and run the import again.\n", len(rs))
	return exitFindings, nil
}
