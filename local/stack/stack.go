// Package stack runs the project's template.yaml locally, without Docker:
// moto for DynamoDB and Step Functions, the Lambda Runtime Interface Emulator
// for every function, an AWS front that answers Lambda invokes and proxies
// the rest to moto, and an HTTP API front with the JWT authorizer.
package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/devplatform/account-migration/local/internal/apigw"
	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/internal/iam"
	"github.com/devplatform/account-migration/local/internal/rie"
	"github.com/devplatform/account-migration/local/jwtlocal"
	"github.com/devplatform/account-migration/local/moto"
)

// Options configure Start. The zero value runs ./template.yaml with the
// binaries of `make build-local` on free ports and the demo snapshot.
type Options struct {
	ProjectDir string // where template.yaml is; default "."
	BuildDir   string // BuildDir/<LogicalId>/bootstrap; default ProjectDir/.build
	APIPort    int    // HTTP API on 127.0.0.1; 0 = a free port
	AWSPort    int    // AWS endpoint on 127.0.0.1; 0 = a free port
	// Params override template parameters (e.g. PendingTimeoutSeconds).
	// JwtIssuer defaults to jwtlocal.Issuer.
	Params   map[string]string
	Seed     []byte // snapshot JSON; nil = the demo snapshot
	PoolSize int    // emulator processes per function; default 3
	Logs     io.Writer
	// SigningKeyPath is the JWT key; default ProjectDir/.local/jwt-signing-key.pem.
	SigningKeyPath string
}

// Stack is a running local stack.
type Stack struct {
	APIURL          string // http://127.0.0.1:APIPort
	AWSEndpoint     string // http://127.0.0.1:AWSPort
	StateMachineARN string
	TableName       string
	AuditTableName  string // the append-only audit trail (template.yaml's AuditTable)
	// ManifestBucket holds the committed batches' manifests (template.yaml's
	// ManifestBucket), on the AWS endpoint.
	ManifestBucket string
	Region         string

	auth    *jwtlocal.Authority
	iam     *iam.Enforcer
	moto    *moto.Server
	pools   []*rie.Pool
	servers []*http.Server
	closeMu sync.Mutex
	closed  bool

	// What Deploy needs to put a new build into the running stack.
	opts       Options
	awsPort    int
	rieBin     string
	front      *rie.Front
	apiHandler *lateHandler
	awsHandler *lateHandler
	deployMu   sync.Mutex
	enforcers  []*iam.Enforcer // every deploy's, for IAMDenials and IAMUsed
	drains     sync.WaitGroup  // replaced pools finishing their invokes
}

// PortInUseError reports a port the stack could not listen on.
type PortInUseError struct {
	Name string
	Port int
	Err  error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("%s port %d is not available (set %s to another port): %v", e.Name, e.Port, map[string]string{"API": "API_PORT", "AWS": "AWS_PORT"}[e.Name], e.Err)
}
func (e *PortInUseError) Unwrap() error { return e.Err }

// Start brings the whole stack up and returns once the API answers (after
// seeding). On error everything started so far is stopped. Its phases: check
// all that needs nothing started (newPlan), take the ports, start moto and the
// function emulators (startFunctions), deploy the template (deploy), seed.
func Start(ctx context.Context, opts Options) (s *Stack, err error) {
	began := time.Now()
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	// Everything that can be checked without starting anything comes first.
	p, err := newPlan(opts)
	if err != nil {
		return nil, err
	}

	s = &Stack{Region: cfn.Region, opts: opts}
	s.auth = &jwtlocal.Authority{Key: p.key, Issuer: p.params["JwtIssuer"], Audience: p.params["JwtAudience"]}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()

	// Take both ports before anything else so a taken port fails at once.
	apiLn, err := listen("API", opts.APIPort)
	if err != nil {
		return s, err
	}
	awsLn, err := listen("AWS", opts.AWSPort)
	if err != nil {
		apiLn.Close()
		return s, err
	}
	awsPort := awsLn.Addr().(*net.TCPAddr).Port
	s.awsPort = awsPort
	s.APIURL = "http://" + apiLn.Addr().String()
	s.AWSEndpoint = "http://" + awsLn.Addr().String()

	// The API answers 503 STARTING until the end of Start.
	api := apigw.New(p.routes, s.auth, nil)
	// (the invoker is set below, once the pools exist)
	apiHandler := &lateHandler{}
	apiHandler.set(api)
	s.apiHandler = apiHandler
	s.serve(apiLn, apiHandler)

	front, err := s.startFunctions(ctx, opts, p, awsPort)
	if err != nil {
		awsLn.Close()
		return s, err
	}
	s.front = front
	s.iam = iam.NewEnforcer(iam.Account{Region: cfn.Region, ID: cfn.AccountID}, p.roles)
	s.enforcers = append(s.enforcers, s.iam)
	s.awsHandler = &lateHandler{}
	s.awsHandler.set(s.iam.Handler(front))
	s.serve(awsLn, s.awsHandler)
	api = apigw.New(p.routes, s.auth, front)
	th, err := apigw.ThrottlingFromTemplate(p.tpl, p.res)
	if err != nil {
		return s, err
	}
	api.SetThrottling(th) // the stage's and routes' limits, as API Gateway applies them
	apiHandler.set(api)

	db, err := s.deploy(ctx, p)
	if err != nil {
		return s, err
	}
	t := time.Now()
	if err := seed(ctx, db, s.TableName, opts.Seed); err != nil {
		return s, err
	}
	slog.Debug("seeded", "took", time.Since(t))

	devAccounts, err := apigw.DevAccounts(opts.Seed)
	if err != nil {
		return s, err
	}
	api.EnableDevSignIn(devAccounts) // the console's local sign-in; never in template.yaml
	api.SetReady()
	slog.Info("local stack ready", "api", s.APIURL, "aws", s.AWSEndpoint, "took", time.Since(began).Round(time.Millisecond))
	return s, nil
}

// functionEnv is the environment of a function's emulator: the template's
// variables plus what Lambda itself provides, pointing the SDK at the local
// AWS endpoint. Nothing of the caller's environment leaks in but PATH, so a
// developer's real AWS settings can never be used by a local function.
func functionEnv(fn cfn.Function, awsPort int) []string {
	env := map[string]string{}
	for k, v := range fn.Env {
		env[k] = v
	}
	for k, v := range map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"TZ":                              "UTC",
		"LANG":                            "en_US.UTF-8",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:" + strconv.Itoa(awsPort),
		"AWS_REGION":                      cfn.Region,
		"AWS_DEFAULT_REGION":              cfn.Region,
		"AWS_ACCESS_KEY_ID":               iam.AccessKeyID(fn.ID), // its role's permissions, no more
		"AWS_SECRET_ACCESS_KEY":           "test",
		"AWS_LAMBDA_FUNCTION_NAME":        fn.ID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(fn.TimeoutSec),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.ID,
	} {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       cfn.Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", "")),
		BaseEndpoint: aws.String(endpoint),
	}
}

// moduleDir is the Go module holding the pinned emulator: the nearest parent
// of dir with a go.mod, else the working directory (a test's project copy).
func moduleDir(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func listen(name string, port int) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, &PortInUseError{Name: name, Port: port, Err: err}
	}
	return ln, nil
}

func (s *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("local server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// AccessDeniedError is what Close returns when the local AWS endpoint refused
// a call of a function or state machine that its role in template.yaml does
// not allow: on AWS the same call would fail.
type AccessDeniedError struct{ Denials []iam.Denial }

func (e *AccessDeniedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the local AWS endpoint refused %d call(s) that template.yaml's roles do not allow:", len(e.Denials))
	for i, d := range e.Denials {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Denials)-10)
			break
		}
		b.WriteString("\n  " + d.String())
	}
	return b.String()
}

// appendIAMUsed adds one JSON line of what each role used to path (if set):
// LOCAL_IAM_USED=/tmp/used.jsonl make test collects what the whole suite used,
// the evidence behind docs/IAM.md.
func appendIAMUsed(path string, used map[string][]iam.Call) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(used)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(append(b, '\n'))
	return errors.Join(werr, f.Close())
}

// IAMDenials lists the calls refused so far (see AccessDeniedError), under
// the roles of every deploy.
func (s *Stack) IAMDenials() []iam.Denial {
	var out []iam.Denial
	for _, e := range s.allEnforcers() {
		out = append(out, e.Denials()...)
	}
	return out
}

// IAMUsed lists, per role, the distinct calls it made and was allowed.
func (s *Stack) IAMUsed() map[string][]iam.Call {
	es := s.allEnforcers()
	if len(es) == 1 {
		return es[0].Used()
	}
	seen := map[string]map[iam.Call]bool{}
	out := map[string][]iam.Call{}
	for _, e := range es {
		for role, calls := range e.Used() {
			if seen[role] == nil {
				seen[role] = map[iam.Call]bool{}
			}
			for _, c := range calls {
				if !seen[role][c] {
					seen[role][c] = true
					out[role] = append(out[role], c)
				}
			}
		}
	}
	for role := range out {
		sort.Slice(out[role], func(i, j int) bool { return out[role][i].String() < out[role][j].String() })
	}
	return out
}

func (s *Stack) allEnforcers() []*iam.Enforcer {
	s.deployMu.Lock()
	defer s.deployMu.Unlock()
	return append([]*iam.Enforcer(nil), s.enforcers...)
}

// Token mints a bearer token the local API accepts for an old-platform
// account (docs/CONTRACT.md §2 claims).
func (s *Stack) Token(platform, accountID, login string, scopes ...string) (string, error) {
	return s.auth.Mint(platform, accountID, login, scopes...)
}

// Close stops everything Start started: the two fronts, every emulator
// process and moto, each by its process group. Safe to call twice.
func (s *Stack) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close() // in-flight invokes are cut; their processes die next
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	s.deployMu.Lock() // a deploy under way adds its pools first
	pools := s.pools
	s.deployMu.Unlock()
	for _, p := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Close(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.drains.Wait() // closed above: each drain ends at once
	if s.moto != nil {
		errs = append(errs, s.moto.Close())
	}
	if s.iam != nil {
		errs = append(errs, appendIAMUsed(os.Getenv("LOCAL_IAM_USED"), s.IAMUsed()))
		if d := s.IAMDenials(); len(d) > 0 {
			errs = append(errs, &AccessDeniedError{Denials: d})
		}
	}
	return errors.Join(errs...)
}

// lateHandler lets the API listener serve (503 STARTING) before the invoker
// exists, then switches to the complete handler.
type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) set(h http.Handler) {
	l.mu.Lock()
	l.h = h
	l.mu.Unlock()
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	h.ServeHTTP(w, r)
}
