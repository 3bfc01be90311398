// Command stack runs the local stack in the foreground (`make run`): moto,
// every function under the Lambda emulator, the AWS endpoint and the HTTP
// API, seeded with the demo snapshot or -seed. Ctrl-C stops all of it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/stack"
)

type paramFlags map[string]string

func (p paramFlags) String() string { return fmt.Sprint(map[string]string(p)) }
func (p paramFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want Name=Value, got %q", v)
	}
	p[name] = value
	return nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func main() {
	params := paramFlags{}
	apiPort := flag.Int("api-port", envInt("API_PORT", 3000), "HTTP API port (env API_PORT)")
	awsPort := flag.Int("aws-port", envInt("AWS_PORT", 4566), "AWS endpoint port (env AWS_PORT)")
	projectDir := flag.String("project-dir", ".", "directory of template.yaml")
	buildDir := flag.String("build-dir", ".build", "where `make build-local` put <LogicalId>/bootstrap")
	seedPath := flag.String("seed", "", "snapshot JSON to load (default: the demo snapshot)")
	pool := flag.Int("pool", 3, "emulator processes per function")
	verbose := flag.Bool("v", false, "children's logs to stderr instead of .local/logs/stack.log")
	flag.Var(params, "param", "template parameter override Name=Value (repeatable)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))

	if err := run(*projectDir, *buildDir, *seedPath, *apiPort, *awsPort, *pool, params, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "local stack:", err)
		os.Exit(1)
	}
}

// Kept whole (96 lines): the command's steps in the order a user sees them.
func run(projectDir, buildDir, seedPath string, apiPort, awsPort, pool int, params map[string]string, verbose bool) error {
	seed := demo.Snapshot
	seedName := "demo snapshot"
	if seedPath != "" {
		b, err := os.ReadFile(seedPath)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		seed, seedName = b, seedPath
	}

	var logs io.Writer = os.Stderr
	logPath := "stderr"
	if !verbose {
		logPath = filepath.Join(projectDir, ".local", "logs", "stack.log")
		if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
			return err
		}
		// Append: a second `make run` that fails on a taken port must not
		// truncate the log of the stack that holds the port.
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(f, "=== local stack starting %s (pid %d) ===\n", time.Now().Format(time.RFC3339), os.Getpid())
		logs = f
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "starting the local stack (logs: %s)...\n", logPath)
	began := time.Now()
	s, err := stack.Start(ctx, stack.Options{
		ProjectDir: projectDir,
		BuildDir:   buildDir,
		APIPort:    apiPort,
		AWSPort:    awsPort,
		Params:     params,
		Seed:       seed,
		PoolSize:   pool,
		Logs:       logs,
	})
	if err != nil {
		var inUse *stack.PortInUseError
		if errors.As(err, &inUse) {
			return fmt.Errorf("%w\n  is another local stack running? stop it or pick other ports: make run API_PORT=3001 AWS_PORT=4567", err)
		}
		return err
	}
	defer s.Close()

	token, err := s.Token("microapp", "ma-1001", "alice@example.com")
	if err != nil {
		return err
	}
	fmt.Printf(`
Local stack ready in %s (%s loaded)

  HTTP API         %s
  AWS endpoint     %s   (DynamoDB, Step Functions, Lambda invoke)
  State machine    %s
  Table            %s
  Region           %s

Sample token (microapp:ma-1001, alice@example.com; valid 1 h; more with: make token ACCOUNT=<platform>:<accountId>):

  export TOKEN=%s

Try:

  curl %s/healthz
  curl -H "Authorization: Bearer $TOKEN" %s/v1/plan
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url %s --region us-east-1 stepfunctions start-execution --state-machine-arn %s --name demo-1 --input '{"source":{"platform":"microapp","accountId":"ma-1001"},"requestedBy":"ops:alice"}'
  aws --endpoint-url %s --region us-east-1 stepfunctions describe-execution --execution-arn %s
  aws --endpoint-url %s --region us-east-1 dynamodb scan --table-name %s --max-items 5

Ctrl-C stops everything. make deploy-local deploys a new build into this running stack, as
sam deploy does: migrations in flight stay where they are.
`,
		time.Since(began).Round(100*time.Millisecond), seedName,
		s.APIURL, s.AWSEndpoint, s.StateMachineARN, s.TableName, s.Region,
		token,
		s.APIURL, s.APIURL,
		s.AWSEndpoint, s.StateMachineARN,
		s.AWSEndpoint, executionArn(s.StateMachineARN, "demo-1"),
		s.AWSEndpoint, s.TableName)

	// SIGHUP (make deploy-local, by the pid in .local/stack.pid) deploys
	// what `make build-local` built since into the running stack.
	pidFile := filepath.Join(projectDir, ".local", "stack.pid")
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for waiting := true; waiting; {
		select {
		case <-ctx.Done():
			waiting = false
		case <-hup:
			fmt.Fprintln(os.Stderr, "deploying the new build into the running stack...")
			t := time.Now()
			if err := s.Deploy(ctx, stack.DeployOptions{ProjectDir: projectDir, BuildDir: buildDir, Params: params}); err != nil {
				fmt.Fprintln(os.Stderr, "deploy failed (the stack runs what it ran before where the deploy had not reached):", err)
				continue
			}
			fmt.Fprintf(os.Stderr, "deployed in %s\n", time.Since(t).Round(time.Millisecond))
		}
	}
	fmt.Fprintln(os.Stderr, "\nstopping the local stack...")
	if err := s.Close(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}

// executionArn is the ARN Step Functions gives an execution named name.
func executionArn(stateMachineArn, name string) string {
	return strings.Replace(stateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + name
}
