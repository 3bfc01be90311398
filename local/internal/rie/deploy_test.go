package rie_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/devplatform/account-migration/local/internal/rie"
)

// A deploy replaces a function's pool while an invoke runs on the old one:
// that invoke answers from the old code, the next ones run on the new pool,
// and the old pool closes once its invoke is done, as Lambda lets a version's
// running invokes finish after its alias moved on.
func TestReplaceDrainsTheOldPool(t *testing.T) {
	old := startEcho(t, 1, 5*time.Second)
	next := startEcho(t, 1, 5*time.Second)
	front, err := rie.NewFront("http://127.0.0.1:1", []*rie.Pool{old})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	defer srv.Close()

	pidOf := func(a invokeAnswer) float64 {
		t.Helper()
		if a.status != 200 || a.header.Get("X-Amz-Function-Error") != "" {
			t.Fatalf("status %d payload %v", a.status, a.payload)
		}
		return a.payload["pid"].(float64)
	}
	oldPid := pidOf(invoke(t, srv.URL, "EchoFunction", `{}`))

	slow := make(chan invokeAnswer, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/2015-03-31/functions/EchoFunction/invocations", "application/json",
			bytes.NewBufferString(`{"action":"sleep","seconds":1}`))
		if err != nil {
			slow <- invokeAnswer{status: -1}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		a := invokeAnswer{status: resp.StatusCode, header: resp.Header}
		_ = json.Unmarshal(b, &a.payload)
		slow <- a
	}()
	time.Sleep(200 * time.Millisecond) // the slow invoke is on the old pool's only instance

	if got := front.Replace(next); got != old {
		t.Fatal("Replace did not return the old pool")
	}
	drained := make(chan error, 1)
	go func() { drained <- old.Drain(t.Context()) }()

	if pid := pidOf(invoke(t, srv.URL, "EchoFunction", `{}`)); pid == oldPid {
		t.Fatal("an invoke after Replace ran on the old pool")
	}
	if pid := pidOf(<-slow); pid != oldPid {
		t.Fatalf("the invoke in flight during Replace ran on pid %v, want the old %v", pid, oldPid)
	}
	select {
	case err := <-drained:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the old pool did not drain after its last invoke")
	}
}

// A qualified name or ARN runs the function when it names $LATEST, a version
// or one of its aliases; any other qualifier is not found, as on Lambda.
func TestQualifiers(t *testing.T) {
	p := startEcho(t, 1, 5*time.Second, "live")
	front, err := rie.NewFront("http://127.0.0.1:1", []*rie.Pool{p})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	defer srv.Close()
	arn := "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AEchoFunction"
	for q, want := range map[string]int{"%3Alive": 200, "%3A%24LATEST": 200, "%3A7": 200, "": 200, "%3Aprod": 404, "%3A0": 404} {
		if a := invoke(t, srv.URL, arn+q, `{}`); a.status != want {
			t.Errorf("qualifier %q: status %d, want %d (%v)", q, a.status, want, a.payload)
		}
	}
	for q, want := range map[string]int{"live": 200, "prod": 404} {
		resp, err := http.Post(srv.URL+"/2015-03-31/functions/EchoFunction/invocations?Qualifier="+q, "application/json", bytes.NewBufferString(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("?Qualifier=%s: status %d, want %d", q, resp.StatusCode, want)
		}
	}
	if got := rie.Qualifier("arn:aws:lambda:us-east-1:123456789012:function:CommitFunction:live"); got != "live" {
		t.Errorf("Qualifier = %q", got)
	}
}
