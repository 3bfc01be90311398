// Package moto runs moto's server (DynamoDB, Step Functions that execute ASL)
// as a child process, through launcher.py, which patches the moto bugs listed
// in /work/shared/STACK.md before the server starts.
package moto

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed launcher.py
var launcherPy []byte

// strictPy is strict mode (Step Functions refuses what AWS refuses), imported
// by the launcher from its own directory unless MOTO_STRICT=0.
//
//go:embed strict.py
var strictPy []byte

// itemReaderPy is the launcher's patch of the Distributed Map's S3 listing.
//
//go:embed itemreader.py
var itemReaderPy []byte

// DefaultStartTimeout bounds how long Start waits for moto to answer. Importing
// moto and flask takes a few seconds on a cold, busy 2-core machine.
const DefaultStartTimeout = 90 * time.Second

// Options configure Start.
type Options struct {
	// Port moto listens on (127.0.0.1). 0 picks a free port.
	Port int
	// LambdaPort is the value of MOTO_PORT in moto's environment: the Step
	// Functions interpreter sends its Lambda invokes and DynamoDB integrations
	// to http://localhost:$MOTO_PORT, i.e. to the Lambda front. 0 = Port.
	LambdaPort int
	// Stdout and Stderr receive moto's output; nil discards it.
	Stdout, Stderr io.Writer
	// Python is the interpreter to run; "" = $MOTO_PYTHON, else python3 from PATH.
	Python string
	// StartTimeout bounds the wait for moto to answer; 0 = DefaultStartTimeout.
	StartTimeout time.Duration
	// Lenient runs Step Functions as moto ships it, without strict mode
	// (strict.py: what AWS refuses is refused). Strict is the default; the
	// environment's MOTO_STRICT=0 turns it off too.
	Lenient bool
}

// Server is a running moto process.
type Server struct {
	Endpoint string // http://127.0.0.1:Port
	Port     int

	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	waitErr  error
	script   string // the launcher's temporary directory
	stopOnce sync.Once
	stopErr  error
}

// Start launches moto, waits until it answers, and turns on execution of
// state machines (which must happen before any state machine is created).
// On error nothing is left running.
// Kept whole (94 lines): the process, its pipes and the cleanup on a failed
// start belong together.
func Start(ctx context.Context, opts Options) (*Server, error) {
	port := opts.Port
	if port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	lambdaPort := opts.LambdaPort
	if lambdaPort == 0 {
		lambdaPort = port
	}
	python := opts.Python
	if python == "" {
		python = os.Getenv("MOTO_PYTHON")
	}
	if python == "" {
		python = "python3"
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = DefaultStartTimeout
	}

	dir, err := os.MkdirTemp("", "moto-launcher-")
	if err != nil {
		return nil, fmt.Errorf("moto: write launcher: %w", err)
	}
	script := filepath.Join(dir, "launcher.py")
	if err := errors.Join(os.WriteFile(script, launcherPy, 0o600), os.WriteFile(filepath.Join(dir, "strict.py"), strictPy, 0o600),
		os.WriteFile(filepath.Join(dir, "itemreader.py"), itemReaderPy, 0o600)); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("moto: write launcher: %w", err)
	}

	// Keep the last lines of stderr to explain a failed start (port taken,
	// moto missing) even when the caller discards the output.
	tail := &tailBuffer{max: 4096}
	stderr := io.Writer(tail)
	if opts.Stderr != nil {
		stderr = io.MultiWriter(opts.Stderr, tail)
	}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = io.Discard
	}

	cmd := exec.Command(python, script, strconv.Itoa(port))
	cmd.Env = append(envWithout(os.Environ(), "MOTO_PORT", "AWS_DEFAULT_REGION", "AWS_REGION"),
		"MOTO_PORT="+strconv.Itoa(lambdaPort),
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"PYTHONUNBUFFERED=1",
	)
	if opts.Lenient {
		cmd.Env = append(envWithout(cmd.Env, "MOTO_STRICT"), "MOTO_STRICT=0")
	}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// Own process group: Close kills werkzeug and anything moto spawned.
	// Its own group, so Close stops moto's children too; and killed with us,
	// so a test that dies on a panic leaves no server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Output copying must not hold Wait forever if a grandchild keeps a pipe.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("moto: start %s: %w", python, err)
	}

	s := &Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		Port:     port,
		cmd:      cmd,
		done:     make(chan struct{}),
		script:   dir,
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	slog.Debug("moto starting", "pid", cmd.Process.Pid, "port", port, "lambdaPort", lambdaPort)

	if err := s.waitReady(ctx, timeout); err != nil {
		s.Close()
		if t := strings.TrimSpace(tail.String()); t != "" {
			err = fmt.Errorf("%w\nmoto stderr (tail):\n%s", err, t)
		}
		return nil, err
	}
	if err := s.enableExecution(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitReady polls GET /moto-api/ until it answers 200, the process dies, or
// the deadline passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/moto-api/", nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("moto exited before answering on port %d: %v", s.Port, s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("moto did not answer on %s within %s: %w", s.Endpoint, timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// enableExecution makes Step Functions run the ASL (moto's parser backend).
// It has to be on before state machines are created; GET never shows it.
func (s *Server) enableExecution(ctx context.Context) error {
	body := []byte(`{"stepfunctions": {"execute_state_machine": true}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/moto-api/config", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto: enable state machine execution: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto: enable state machine execution: %s: %s", resp.Status, b)
	}
	return nil
}

// Close stops moto's whole process group (SIGTERM, then SIGKILL after a grace
// period) and waits for it. Safe to call more than once.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		s.stopErr = StopGroup(s.cmd.Process.Pid, s.done, 5*time.Second)
		os.RemoveAll(s.script)
	})
	return s.stopErr
}

// StopGroup signals the process group led by pid with SIGTERM, waits for done
// (closed when the leader was reaped) up to grace, then SIGKILLs the group.
// The group is SIGKILLed in any case so no grandchild outlives it.
func StopGroup(pid int, done <-chan struct{}, grace time.Duration) error {
	select {
	case <-done:
		// The leader is gone; its group may still hold children.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return nil
	default:
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", pid, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return nil
	case <-timer.C:
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("process group %d did not exit after SIGKILL", pid)
	}
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1. Another process
// may take it before it is used; callers bind soon after.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func envWithout(env []string, names ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
