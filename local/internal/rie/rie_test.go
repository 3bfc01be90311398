package rie_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/devplatform/account-migration/local/internal/rie"
)

// moduleRoot is the directory holding go.mod (tests run in the package dir).
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// startEcho builds the emulator and local/stack/testdata/echofn and starts a pool of them.
func startEcho(t *testing.T, size int, timeout time.Duration, aliases ...string) *rie.Pool {
	t.Helper()
	ctx := context.Background()
	emu, boot := buildOnce(t)
	var logs io.Writer = io.Discard
	if testing.Verbose() {
		logs = &testLog{t: t}
	}
	secs := int(timeout / time.Second)
	p, err := rie.StartPool(ctx, emu, rie.Function{
		Name:      "EchoFunction",
		Bootstrap: boot,
		Timeout:   timeout,
		Aliases:   aliases,
		Env: []string{
			"AWS_LAMBDA_FUNCTION_NAME=EchoFunction",
			fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", secs),
			"AWS_REGION=us-east-1",
			"PATH=" + os.Getenv("PATH"),
		},
	}, size, logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

var (
	built    sync.Once
	builtDir string
	buildErr error
)

// buildOnce builds the emulator and echofn once for the whole test binary
// (each build takes seconds; every test starts its own pool from them).
// TestMain removes the directory.
func buildOnce(t *testing.T) (emu, boot string) {
	t.Helper()
	root := moduleRoot(t)
	built.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "rie-test-")
		if buildErr != nil {
			return
		}
		if buildErr = rie.BuildEmulator(context.Background(), root, filepath.Join(builtDir, "aws-lambda-rie")); buildErr != nil {
			return
		}
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(builtDir, "echofn", "bootstrap"), "../../stack/testdata/echofn")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build echofn: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(builtDir, "aws-lambda-rie"), filepath.Join(builtDir, "echofn", "bootstrap")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

type testLog struct {
	mu sync.Mutex
	t  *testing.T
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

type invokeAnswer struct {
	status  int
	header  http.Header
	payload map[string]any
}

func invoke(t *testing.T, url, fn string, body string) invokeAnswer {
	t.Helper()
	resp, err := http.Post(url+"/2015-03-31/functions/"+fn+"/invocations", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := invokeAnswer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(b, &a.payload); err != nil {
		t.Fatalf("answer %d %q is not a JSON object", resp.StatusCode, b)
	}
	return a
}

func TestFront(t *testing.T) {
	pool := startEcho(t, 2, 2*time.Second)
	// moto is not needed here: anything not an invoke goes to this stand-in.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	defer upstream.Close()
	front, err := rie.NewFront(upstream.URL, []*rie.Pool{pool})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	defer srv.Close()
	arn := "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AEchoFunction"

	checkCommon := func(t *testing.T, a invokeAnswer) {
		t.Helper()
		if a.header.Get("X-Amzn-Requestid") == "" {
			t.Error("no x-amzn-RequestId")
		}
		if got := a.header.Get("X-Amz-Executed-Version"); got != "$LATEST" {
			t.Errorf("X-Amz-Executed-Version = %q", got)
		}
	}

	t.Run("success passes through", func(t *testing.T) {
		a := invoke(t, srv.URL, arn, `{"value":{"a":1}}`)
		checkCommon(t, a)
		if a.status != 200 || a.header.Get("X-Amz-Function-Error") != "" {
			t.Fatalf("status %d, function error %q", a.status, a.header.Get("X-Amz-Function-Error"))
		}
		if v, _ := json.Marshal(a.payload["value"]); string(v) != `{"a":1}` || a.payload["function"] != "EchoFunction" {
			t.Fatalf("payload %v", a.payload)
		}
	})
	t.Run("typed error", func(t *testing.T) {
		a := invoke(t, srv.URL, "EchoFunction", `{"action":"error"}`)
		checkCommon(t, a)
		if a.status != 200 || a.header.Get("X-Amz-Function-Error") != "Unhandled" || a.payload["errorType"] != "EchoError" {
			t.Fatalf("status %d header %q payload %v", a.status, a.header.Get("X-Amz-Function-Error"), a.payload)
		}
	})
	for _, action := range []string{"panic", "exit"} {
		t.Run(action+" then next invoke works", func(t *testing.T) {
			for range 3 { // more crashes than instances: every slot restarts
				a := invoke(t, srv.URL, "EchoFunction", `{"action":"`+action+`"}`)
				checkCommon(t, a)
				if a.status != 200 || a.header.Get("X-Amz-Function-Error") != "Unhandled" || a.payload["errorType"] != "Runtime.ExitError" {
					t.Fatalf("status %d header %q payload %v", a.status, a.header.Get("X-Amz-Function-Error"), a.payload)
				}
			}
			for range 3 {
				if a := invoke(t, srv.URL, "EchoFunction", `{}`); a.status != 200 || a.header.Get("X-Amz-Function-Error") != "" {
					t.Fatalf("after %s: status %d payload %v", action, a.status, a.payload)
				}
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		a := invoke(t, srv.URL, "EchoFunction", `{"action":"sleep","seconds":5}`)
		checkCommon(t, a)
		if a.header.Get("X-Amz-Function-Error") != "Unhandled" || a.payload["errorType"] != "Sandbox.Timedout" {
			t.Fatalf("header %q payload %v", a.header.Get("X-Amz-Function-Error"), a.payload)
		}
		if a := invoke(t, srv.URL, "EchoFunction", `{}`); a.status != 200 || a.header.Get("X-Amz-Function-Error") != "" {
			t.Fatalf("after timeout: status %d payload %v", a.status, a.payload)
		}
	})
	t.Run("8 concurrent invokes on a pool of 2", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		start := time.Now()
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"action":"sleep","seconds":0.2,"value":%d}`, i)
				resp, err := http.Post(srv.URL+"/2015-03-31/functions/EchoFunction/invocations", "application/json", bytes.NewBufferString(body))
				if err != nil {
					errs <- err.Error()
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				var p map[string]any
				if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" || json.Unmarshal(b, &p) != nil || p["value"] != float64(i) {
					errs <- fmt.Sprintf("invoke %d: %d %s", i, resp.StatusCode, b)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		// 8 x 0.2 s on 2 instances cannot take less than 0.8 s: proves queueing.
		if d := time.Since(start); d < 800*time.Millisecond {
			t.Errorf("8 sleeps of 0.2 s on 2 instances took %s", d)
		} else {
			t.Logf("8 concurrent invokes on 2 instances: %s", d.Round(time.Millisecond))
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		a := invoke(t, srv.URL, "Nope", `{}`)
		checkCommon(t, a)
		if a.status != 404 || a.header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" {
			t.Fatalf("status %d header %v", a.status, a.header)
		}
	})
	t.Run("other requests go upstream", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/", "application/x-amz-json-1.0", bytes.NewBufferString(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Upstream") != "yes" {
			t.Fatal("not proxied")
		}
	})
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"CommitFunction": "CommitFunction",
		"arn:aws:lambda:us-east-1:123456789012:function:CommitFunction":         "CommitFunction",
		"arn:aws:lambda:us-east-1:123456789012:function:CommitFunction:$LATEST": "CommitFunction",
		"123456789012:function:CommitFunction":                                  "CommitFunction",
	} {
		if got := rie.FunctionName(in); got != want {
			t.Errorf("FunctionName(%q) = %q", in, got)
		}
	}
}
