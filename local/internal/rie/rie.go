// Package rie runs Lambda functions locally under the AWS Lambda Runtime
// Interface Emulator, a pool of emulator processes per function, and answers
// Lambda Invoke requests for them (front.go).
//
// Facts this relies on (docs/EMULATOR.md): one emulator process takes one invoke at a
// time (a concurrent one crashes it), it never sets X-Amz-Function-Error, a
// crash answers 502 and a timeout answers 200 "Task timed out after N seconds".
package rie

import (
	"bytes"
	"context"
	"encoding/json"
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
	"sync"
	"syscall"
	"time"

	"github.com/devplatform/account-migration/local/moto"
)

// Package path of the emulator pinned as a tool in go.mod.
const rieTool = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// BuildEmulator builds the pinned emulator into dst (from the module at
// moduleDir) unless dst exists already. The binary is published by rename so
// concurrent builders never see a half-written file.
func BuildEmulator(ctx context.Context, moduleDir, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, rieTool)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("build %s: %w\n%s", rieTool, err, out)
	}
	return os.Rename(tmp, dst)
}

// Function is one function to run.
type Function struct {
	Name      string        // AWS_LAMBDA_FUNCTION_NAME; the logical id
	Bootstrap string        // path of the function's bootstrap binary
	Env       []string      // complete environment of the emulator (KEY=VALUE)
	Timeout   time.Duration // the function's Timeout, for our own bound on an invoke
	// Aliases are the aliases a qualified ARN may name besides $LATEST and a
	// version number (AutoPublishAlias); another qualifier is not found.
	Aliases []string
}

// Result is a function's answer, as Lambda's Invoke API gives it.
type Result struct {
	Payload []byte
	// FunctionError is "Unhandled" when Payload is an error document
	// ({"errorType","errorMessage"}), "" on success.
	FunctionError string
}

// Pool is a fixed set of emulator processes for one function.
type Pool struct {
	fn   Function
	rie  string
	logs io.Writer

	idle chan *instance
	stop chan struct{} // closed by Close: wakes invokes waiting for an instance

	mu        sync.Mutex
	instances map[*instance]bool
	closed    bool
	wg        sync.WaitGroup // background restarts
	client    *http.Client
	inflight  int           // invokes inside Invoke (under mu)
	refusing  bool          // Drain began: new invokes get ErrPoolClosed
	quiet     chan struct{} // closed when refusing and inflight reaches 0
}

// ErrPoolClosed is what Invoke answers once the pool is closed or draining:
// the caller looks the function up again (Front.Invoke does).
var ErrPoolClosed = errors.New("pool closed")

// StartPool starts size emulator processes for fn and waits until each one
// accepts connections. The function itself initialises on its first invoke.
func StartPool(ctx context.Context, rieBinary string, fn Function, size int, logs io.Writer) (*Pool, error) {
	if size < 1 {
		size = 1
	}
	if _, err := os.Stat(fn.Bootstrap); err != nil {
		return nil, fmt.Errorf("function %s: %w (run `make build-local` first)", fn.Name, err)
	}
	if logs == nil {
		logs = io.Discard
	}
	p := &Pool{
		fn:        fn,
		rie:       rieBinary,
		logs:      logs,
		idle:      make(chan *instance, size),
		stop:      make(chan struct{}),
		instances: map[*instance]bool{},
		// No client timeout: each invoke carries its own deadline.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}},
	}
	var wg sync.WaitGroup
	errs := make([]error, size)
	for i := range size {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst, err := p.spawn(ctx, i)
			if err != nil {
				errs[i] = err
				return
			}
			p.idle <- inst
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Name is the function's name.
func (p *Pool) Name() string { return p.fn.Name }

type instance struct {
	slot    int
	cmd     *exec.Cmd
	url     string
	done    chan struct{}
	waitErr error
}

// spawn starts one emulator, trying fresh ports when it dies at start: the
// ports are free when picked but another process (a parallel test's stack)
// can take one before the emulator binds it ("address already in use").
func (p *Pool) spawn(ctx context.Context, slot int) (*instance, error) {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		var inst *instance
		inst, err = p.spawnOnce(ctx, slot)
		if err == nil || !errors.Is(err, errExitedAtStart) {
			return inst, err
		}
	}
	return nil, err
}

var errExitedAtStart = errors.New("emulator exited at start")

func (p *Pool) spawnOnce(ctx context.Context, slot int) (*instance, error) {
	apiPort, err := moto.FreePort()
	if err != nil {
		return nil, err
	}
	emuPort, err := moto.FreePort()
	if err != nil {
		return nil, err
	}
	emuAddr := "127.0.0.1:" + strconv.Itoa(emuPort)
	// Always both address flags: without them the emulator listens on *:8080.
	cmd := exec.Command(p.rie,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		"--runtime-interface-emulator-address", emuAddr,
		p.fn.Bootstrap)
	cmd.Env = p.fn.Env
	out := NewPrefixWriter(p.logs, fmt.Sprintf("[%s#%d] ", p.fn.Name, slot))
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("pool closed")
	}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("function %s: start emulator: %w", p.fn.Name, err)
	}
	inst := &instance{slot: slot, cmd: cmd, url: "http://" + emuAddr + "/2015-03-31/functions/function/invocations", done: make(chan struct{})}
	p.instances[inst] = true
	p.mu.Unlock()
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.done)
	}()

	// Ready when the invoke port accepts a connection.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", emuAddr, 500*time.Millisecond)
		if err == nil {
			c.Close()
			if owns, ok := ownsListener(cmd.Process.Pid, emuPort); ok && !owns {
				// Someone else's listener answered: ours lost the port.
				p.kill(inst)
				return nil, fmt.Errorf("function %s: %w: port %d taken by another process", p.fn.Name, errExitedAtStart, emuPort)
			}
			return inst, nil
		}
		select {
		case <-inst.done:
			p.kill(inst)
			return nil, fmt.Errorf("function %s: %w: %v", p.fn.Name, errExitedAtStart, inst.waitErr)
		case <-ctx.Done():
			p.kill(inst)
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill(inst)
			return nil, fmt.Errorf("function %s: emulator not listening on %s after 15s", p.fn.Name, emuAddr)
		}
	}
}

func (p *Pool) kill(inst *instance) {
	_ = moto.StopGroup(inst.cmd.Process.Pid, inst.done, 2*time.Second)
	p.mu.Lock()
	delete(p.instances, inst)
	p.mu.Unlock()
}

// restart replaces a crashed or timed-out instance in the background and puts
// the new one into the pool when it is ready, so the caller's answer is not
// held up and no invoke ever reaches an emulator that is still busy.
func (p *Pool) restart(inst *instance) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.kill(inst)
		for attempt := 0; attempt < 3; attempt++ {
			next, err := p.spawn(context.Background(), inst.slot)
			if err == nil {
				p.idle <- next
				return
			}
			if p.isClosed() {
				return
			}
			slog.Error("restart emulator", "function", p.fn.Name, "err", err)
		}
	}()
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Invoke runs the function once on a free instance, waiting for one while all
// are busy (ctx bounds only that wait). The answer is normalised as Lambda
// gives it: errors carry FunctionError "Unhandled" and an errorType.
func (p *Pool) Invoke(ctx context.Context, requestID string, payload []byte) (*Result, error) {
	p.mu.Lock()
	if p.closed || p.refusing {
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	p.inflight++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		if p.inflight == 0 && p.quiet != nil {
			close(p.quiet)
			p.quiet = nil
		}
		p.mu.Unlock()
	}()
	var inst *instance
	for inst == nil {
		select {
		case inst = <-p.idle:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.stop:
			return nil, ErrPoolClosed
		}
		select {
		case <-inst.done:
			// It died while idle: replace it and take another.
			p.restart(inst)
			inst = nil
		default:
		}
	}

	// The emulator call is not cancelled with the caller: an instance given
	// back while it still runs an invoke would crash on the next one.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.fn.Timeout+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, inst.url, bytes.NewReader(payload))
	if err != nil {
		p.idle <- inst
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amzn-RequestId", requestID)
	resp, err := p.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		p.restart(inst)
		return nil, fmt.Errorf("function %s: emulator: %w", p.fn.Name, err)
	}

	res, healthy := classify(resp.StatusCode, body)
	if healthy {
		p.idle <- inst
	} else {
		p.restart(inst)
	}
	if res == nil {
		return nil, fmt.Errorf("function %s: emulator answered %d: %s", p.fn.Name, resp.StatusCode, truncate(body, 500))
	}
	return res, nil
}

// classify turns an emulator answer into Lambda's, and says whether the
// instance can take the next invoke as it is.
func classify(status int, body []byte) (res *Result, healthy bool) {
	switch {
	case status == http.StatusBadGateway:
		// A panic or os.Exit: the runtime process is gone.
		msg := string(bytes.TrimSpace(body))
		if msg == "" {
			msg = "Runtime exited without providing a reason"
		}
		return errorResult("Runtime.ExitError", msg), false
	case status != http.StatusOK:
		return nil, false
	case bytes.HasPrefix(body, []byte("Task timed out after")):
		// The handler may still be running inside the old runtime.
		return errorResult("Sandbox.Timedout", string(body)), false
	case isErrorDocument(body):
		return &Result{Payload: body, FunctionError: "Unhandled"}, true
	}
	return &Result{Payload: body}, true
}

func isErrorDocument(body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return false
	}
	_, t := doc["errorType"]
	_, m := doc["errorMessage"]
	return t || m
}

func errorResult(errorType, message string) *Result {
	b, _ := json.Marshal(map[string]string{"errorType": errorType, "errorMessage": message})
	return &Result{Payload: b, FunctionError: "Unhandled"}
}

// Drain closes the pool once the invokes it has taken have answered, as
// Lambda lets a version's running invokes finish after its alias moved on:
// the caller routes new invokes elsewhere first. Each invoke is bounded by
// the function's timeout, so Drain ends; ctx cuts it short (then Close).
func (p *Pool) Drain(ctx context.Context) error {
	p.mu.Lock()
	p.refusing = true
	var quiet chan struct{}
	if p.inflight > 0 {
		quiet = make(chan struct{})
		p.quiet = quiet
	}
	p.mu.Unlock()
	if quiet != nil {
		select {
		case <-quiet:
		case <-ctx.Done():
		}
	}
	return p.Close()
}

// Function is what the pool runs.
func (p *Pool) Function() Function { return p.fn }

// Close stops every emulator process of the pool, busy or not, and waits.
func (p *Pool) Close() error {
	p.mu.Lock()
	if !p.closed {
		close(p.stop)
	}
	p.closed = true
	insts := make([]*instance, 0, len(p.instances))
	for inst := range p.instances {
		insts = append(insts, inst)
	}
	p.mu.Unlock()
	var errs []error
	for _, inst := range insts {
		if err := moto.StopGroup(inst.cmd.Process.Pid, inst.done, 2*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	p.wg.Wait()
	// A restart that raced with Close may have spawned one more.
	p.mu.Lock()
	rest := make([]*instance, 0, len(p.instances))
	for inst := range p.instances {
		rest = append(rest, inst)
	}
	p.instances = map[*instance]bool{}
	p.mu.Unlock()
	for _, inst := range rest {
		_ = moto.StopGroup(inst.cmd.Process.Pid, inst.done, 2*time.Second)
	}
	return errors.Join(errs...)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// NewPrefixWriter prefixes each line written to w, so the logs of many
// processes stay readable in one stream.
func NewPrefixWriter(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: []byte(prefix)}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	mid    bool // inside a line
}

func (pw *prefixWriter) Write(p []byte) (int, error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	var buf bytes.Buffer
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !pw.mid {
			buf.Write(pw.prefix)
		}
		buf.Write(line)
		pw.mid = line[len(line)-1] != '\n'
	}
	if _, err := pw.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
