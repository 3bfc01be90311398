package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The cold-start figure: the real init time of each function under the
// Runtime Interface Emulator (its `INIT REPORT(durationMs: …)` line: the
// REPORT line's Init Duration is meaningless there, see docs/EMULATOR.md) against a
// hello-world bootstrap built with the same flags in the same run, and the
// size of each deployable (arm64) binary.

// helloID names the yardstick in the figures.
const helloID = "HelloWorld"

// lambdaFlags are the Makefile's GOFLAGS_LAMBDA: the yardstick gets exactly
// the functions' build.
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

type coldStart struct {
	ID    string
	Inits []time.Duration // one per cold start
	Size  int64           // arm64 bootstrap, bytes
	// What the package inits cost (GODEBUG=inittrace=1 on one extra start):
	// the heaviest few, for the profile section.
	InitTrace []initCost
}

type initCost struct {
	Pkg   string
	Clock time.Duration
	Alloc int64
}

func (c coldStart) median() time.Duration { return median(c.Inits) }

// functionIDs reads the function list from the Makefile (FUNCTIONS := ...),
// the one list both builds use.
func functionIDs(projectDir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(projectDir, "Makefile"))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "FUNCTIONS := "); ok {
			return strings.Fields(rest), nil
		}
	}
	return nil, fmt.Errorf("Makefile has no FUNCTIONS := line")
}

// buildHello builds the yardstick for this machine (to run) and for arm64
// (to weigh), with the functions' flags.
func buildHello(ctx context.Context, projectDir, outDir string) (local, arm64 string, err error) {
	local = filepath.Join(outDir, helloID, "bootstrap")
	arm64 = filepath.Join(outDir, "arm64", helloID, "bootstrap")
	for _, t := range []struct{ out, arch string }{{local, runtime.GOARCH}, {arm64, "arm64"}} {
		args := append([]string{"build"}, lambdaFlags...)
		args = append(args, "-o", t.out, "./bench/hello")
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = projectDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.arch)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("build hello (%s): %w\n%s", t.arch, err, out)
		}
	}
	return local, arm64, nil
}

// emulator returns the pinned Runtime Interface Emulator, building it (a Go
// tool of go.mod) where the local stack keeps it if it is not there yet.
func emulator(ctx context.Context, projectDir string) (string, error) {
	bin := filepath.Join(projectDir, ".build", "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	cmd.Dir = projectDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the emulator: %w\n%s", err, out)
	}
	return bin, nil
}

// coldStarts starts every function (and the yardstick) runs times, one at a
// time, round robin so that noise on the machine falls on all of them alike.
// With compareDir (a copy of .build from another version of the code: its
// <LogicalId>/bootstrap and arm64/<LogicalId>/bootstrap), those binaries run
// in the same rounds as "<LogicalId>@before", for a before/after in one run.
func (e env) coldStarts(ctx context.Context, runs int, outDir, compareDir string) ([]coldStart, error) {
	ids, err := functionIDs(e.projectDir)
	if err != nil {
		return nil, err
	}
	rie, err := emulator(ctx, e.projectDir)
	if err != nil {
		return nil, err
	}
	helloLocal, helloArm, err := buildHello(ctx, e.projectDir, outDir)
	if err != nil {
		return nil, err
	}
	all := []coldStart{{ID: helloID}}
	boots := map[string]string{helloID: helloLocal}
	sizes := map[string]string{helloID: helloArm}
	for _, id := range ids {
		all = append(all, coldStart{ID: id})
		boots[id] = filepath.Join(e.projectDir, ".build", id, "bootstrap")
		sizes[id] = filepath.Join(e.projectDir, ".build", "arm64", id, "bootstrap")
		if compareDir != "" {
			before := id + "@before"
			all = append(all, coldStart{ID: before})
			boots[before] = filepath.Join(compareDir, id, "bootstrap")
			sizes[before] = filepath.Join(compareDir, "arm64", id, "bootstrap")
		}
	}
	for i := range all {
		st, err := os.Stat(sizes[all[i].ID])
		if err != nil {
			return nil, fmt.Errorf("%w (make build puts the arm64 binaries there)", err)
		}
		all[i].Size = st.Size()
		if _, err := os.Stat(boots[all[i].ID]); err != nil {
			return nil, fmt.Errorf("%w (make build-local)", err)
		}
	}
	for r := 0; r < runs; r++ {
		for k := range all {
			// Rotate the order each round.
			c := &all[(k+r)%len(all)]
			d, _, err := initOnce(ctx, rie, boots[c.ID], c.ID, false)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.ID, err)
			}
			c.Inits = append(c.Inits, d)
		}
	}
	for i := range all {
		_, trace, err := initOnce(ctx, rie, boots[all[i].ID], all[i].ID, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", all[i].ID, err)
		}
		all[i].InitTrace = trace
	}
	return all, nil
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	// init internal/godebug @0.003 ms, 0.010 ms clock, 512 bytes, 5 allocs
	initTrace = regexp.MustCompile(`init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes`)
)

// initOnce starts one emulator with a cold bootstrap, invokes it once and
// reads the init time it reports. With trace, Go's inittrace is on and the
// package inits are returned, heaviest first.
func initOnce(ctx context.Context, rie, bootstrap, name string, trace bool) (time.Duration, []initCost, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		d, costs, err := tryInit(ctx, rie, bootstrap, name, trace)
		if err == nil {
			return d, costs, nil
		}
		lastErr = err
		slog.Debug("cold start attempt failed", "function", name, "err", err)
	}
	return 0, nil, lastErr
}

func tryInit(ctx context.Context, rie, bootstrap, name string, trace bool) (time.Duration, []initCost, error) {
	apiPort, err := freePort()
	if err != nil {
		return 0, nil, err
	}
	emuPort, err := freePort()
	if err != nil {
		return 0, nil, err
	}
	emu := "127.0.0.1:" + strconv.Itoa(emuPort)
	cmd := exec.Command(rie, "--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort), "--runtime-interface-emulator-address", emu, bootstrap)
	// What a Lambda sandbox gives the function; the endpoint goes nowhere,
	// nothing here needs an answer from AWS.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TZ=UTC", "TABLE_NAME=bench", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_ENDPOINT_URL=http://127.0.0.1:9",
		"AWS_LAMBDA_FUNCTION_NAME=" + name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30", "AWS_LAMBDA_LOG_FORMAT=JSON", "STATE_MACHINE_ARN=arn:aws:states:us-east-1:123456789012:stateMachine:bench"}
	if trace {
		cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
	}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", emu, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("emulator not listening: %s", truncate(out.Bytes(), 500))
		}
		time.Sleep(10 * time.Millisecond)
	}
	ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ictx, http.MethodPost, "http://"+emu+"/2015-03-31/functions/function/invocations", strings.NewReader("{}"))
	if err != nil {
		return 0, nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	for {
		logs := out.Bytes()
		if m := initReport.FindSubmatch(logs); m != nil {
			ms, err := strconv.ParseFloat(string(m[1]), 64)
			if err != nil {
				return 0, nil, err
			}
			// The emulator is a Go program too: its own inits come before
			// INIT START, the function's after it.
			if i := bytes.Index(logs, []byte("INIT START")); i >= 0 {
				logs = logs[i:]
			}
			return time.Duration(ms * float64(time.Millisecond)), parseInitTrace(logs), nil
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("no INIT REPORT line: %s", truncate(logs, 800))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parseInitTrace returns the package inits of an inittrace, heaviest first.
func parseInitTrace(logs []byte) []initCost {
	var out []initCost
	sc := bufio.NewScanner(bytes.NewReader(logs))
	for sc.Scan() {
		m := initTrace.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ms, _ := strconv.ParseFloat(m[2], 64)
		alloc, _ := strconv.ParseInt(m[3], 10, 64)
		out = append(out, initCost{Pkg: m[1], Clock: time.Duration(ms * float64(time.Millisecond)), Alloc: alloc})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Clock > out[j].Clock })
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}
