// Package stacktest is the one test harness of the project: starting (or
// sharing) a local stack for tests, SDK clients and the aws CLI pointed at it,
// the developer's API client, bounded polling, and stand-ins for the
// workflow's ports in store-level tests. Tests import it; nothing else does.
package stacktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
)

// RequireBinaries fails t unless `make build-local` has built the functions
// under projectDir: a stack without them cannot start.
func RequireBinaries(t testing.TB, projectDir string) {
	t.Helper()
	require.NoError(t, binariesBuilt(projectDir))
}

func binariesBuilt(projectDir string) error {
	boot := filepath.Join(projectDir, ".build", "ApiFunction", "bootstrap")
	if _, err := os.Stat(boot); err != nil {
		return fmt.Errorf("function binaries missing: run `make build-local` (make test does): %w", err)
	}
	return nil
}

// Start brings a whole stack up for t on free ports (see StartStack for
// the retry) and stops it by its processes when t ends.
func Start(t testing.TB, opts stack.Options) *stack.Stack {
	t.Helper()
	RequireBinaries(t, opts.ProjectDir)
	s, err := start(opts, t.Logf)
	require.NoError(t, err, "start the local stack")
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// StartStack is stack.Start tried up to three times: on a machine shared
// with other runs, a free port the stack picked for an emulator can be taken
// before it binds ("address already in use"); another start gets others. A
// missing binary or a bad template fails every time alike; a port the caller
// named is not retried. Programs (bench) use it too, hence no testing.TB.
func StartStack(ctx context.Context, opts stack.Options, logf func(string, ...any)) (*stack.Stack, error) {
	began := time.Now()
	for attempt := 1; ; attempt++ {
		s, err := stack.Start(ctx, opts)
		if err == nil {
			logf("local stack up in %s", time.Since(began).Round(time.Millisecond))
			return s, nil
		}
		var port *stack.PortInUseError
		if attempt == 3 || ctx.Err() != nil || (errors.As(err, &port) && (opts.APIPort != 0 || opts.AWSPort != 0)) {
			return nil, err
		}
		logf("local stack did not start (%v); trying again", err)
	}
}

// start is StartStack with a test's logs: discarded unless Verbose.
func start(opts stack.Options, logf func(string, ...any)) (*stack.Stack, error) {
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	if Verbose() {
		opts.Logs = io.MultiWriter(opts.Logs, os.Stderr)
	}
	return StartStack(context.Background(), opts, logf)
}

// Verbose says whether the stack's logs also go to stderr (E2E_VERBOSE=1 or
// STACK_VERBOSE=1), to watch a failing test's functions.
func Verbose() bool {
	return os.Getenv("E2E_VERBOSE") != "" || os.Getenv("STACK_VERBOSE") != ""
}

// Shared is one stack for many tests of a package, started on first use (so
// tests that need none start none) and stopped by Close from TestMain. Tests
// that share it must work on accounts of their own.
type Shared struct {
	// Options returns the stack's options; it runs once, on first use, so an
	// expensive seed is only built when a test needs the stack.
	Options func() (stack.Options, error)

	once  sync.Once
	stack *stack.Stack
	err   error
}

// Stack returns the shared stack, starting it the first time.
func (sh *Shared) Stack(t testing.TB) *stack.Stack {
	t.Helper()
	sh.once.Do(func() {
		opts, err := sh.Options()
		if err == nil {
			err = binariesBuilt(opts.ProjectDir)
		}
		if err != nil {
			sh.err = err
			return
		}
		sh.stack, sh.err = start(opts, t.Logf)
	})
	require.NoError(t, sh.err, "start the shared local stack")
	return sh.stack
}

// Close stops the shared stack if it was started. A test that panics kills
// the binary before TestMain can call it, so tests assert rather than assume.
func (sh *Shared) Close() error {
	if sh.stack == nil {
		return nil
	}
	return sh.stack.Close()
}

// Main is a TestMain that runs the tests, then stops the shared stacks.
func Main(m *testing.M, shared ...*Shared) {
	code := m.Run()
	for _, sh := range shared {
		if err := sh.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "stop the local stack:", err)
		}
	}
	os.Exit(code)
}

// LogBuffer keeps every log line of a stack (its functions write from many
// emulators at once), for a test to read while the stack runs.
type LogBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
