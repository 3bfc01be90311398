// Package faultproxy is a fault-injecting HTTP proxy for the AWS JSON
// protocols (DynamoDB, Step Functions). It stands between the SDK and an
// endpoint (moto, the local stack's AWS front) and, per rule, chosen by the
// operation named in the X-Amz-Target header and a seeded random draw:
//
//   - loses the answer of a request the endpoint applied (the ambiguous write:
//     the connection is reset after the endpoint answered),
//   - answers with throttling (HTTP 400 ProvisionedThroughputExceededException
//     or ThrottlingException, shaped as DynamoDB shapes them) without
//     forwarding,
//   - answers with a server error (HTTP 500 InternalServerError or 503
//     ServiceUnavailable) without forwarding,
//   - adds latency before forwarding.
//
// It counts what it injected, by kind and operation, so a test can report the
// faults it survived.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Kind is a kind of injected fault.
type Kind string

const (
	// LostAnswer forwards the request, lets the endpoint apply it, then resets
	// the client's connection: the caller cannot tell whether it happened.
	LostAnswer Kind = "lost_answer"
	// Throttle answers HTTP 400 with a throttling error; nothing is forwarded.
	Throttle Kind = "throttle"
	// ServerError answers HTTP 5xx; nothing is forwarded.
	ServerError Kind = "server_error"
	// Latency delays the request, then forwards it normally.
	Latency Kind = "latency"
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{LostAnswer, Throttle, ServerError, Latency}

// Operation sets for rules.
var (
	DynamoDBWrites = []string{"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
	DynamoDBReads  = []string{"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
)

// Throttling error codes DynamoDB answers with.
const (
	CodeProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	CodeThrottling                    = "ThrottlingException"
)

// Rule is one fault and when it applies. Rules are tried in order; the first
// whose operation matches and whose draw succeeds is injected, so a request
// gets at most one fault.
type Rule struct {
	Kind Kind
	// Operations the rule applies to, by X-Amz-Target operation name
	// ("TransactWriteItems") or full target ("DynamoDB_20120810.PutItem");
	// empty means every operation.
	Operations []string
	// Match, when set, must also accept the request (its operation and body).
	Match func(operation string, body []byte) bool
	// Probability of injecting, per matching request (0..1).
	Probability float64
	// Limit stops the rule after this many injections; 0 means no limit.
	Limit int
	// Code overrides the error code: Throttle defaults to
	// ProvisionedThroughputExceededException, ServerError to
	// InternalServerError (500) or ServiceUnavailable (503).
	Code string
	// Status is ServerError's HTTP status: 500 (default) or 503.
	Status int
	// MinDelay and MaxDelay bound Latency's delay, drawn uniformly.
	MinDelay, MaxDelay time.Duration
}

func (r Rule) matches(op, target string, body []byte) bool {
	if len(r.Operations) > 0 {
		found := false
		for _, o := range r.Operations {
			if o == op || o == target {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return r.Match == nil || r.Match(op, body)
}

// Options configure a Proxy.
type Options struct {
	// Seed makes the fault sequence reproducible (for one request order).
	Seed uint64
	// Serialize forwards one request at a time. moto's DynamoDB applies a
	// conditional write as read-check-write without a lock and rolls a
	// cancelled transaction back by restoring a whole-table copy, so
	// concurrent requests can lose each other's writes inside the emulator;
	// serializing keeps the emulator's answers those of DynamoDB, whose
	// writes are serializable per item.
	Serialize bool
	// MaxBody bounds a forwarded request body; 0 means 16 MiB.
	MaxBody int64
	// Transport reaches the upstream; nil uses a private http.Transport.
	Transport http.RoundTripper
}

// Proxy is the fault-injecting handler. Its zero value is not usable; use New.
type Proxy struct {
	upstream *url.URL
	opts     Options
	client   *http.Client
	forward  sync.Mutex // held around each upstream round trip when Serialize

	mu     sync.Mutex
	rng    *rand.Rand
	rules  []Rule
	used   []int // injections per rule
	counts Counts
}

// Counts is what the proxy saw and injected.
type Counts struct {
	Requests    int                     // requests received
	Forwarded   int                     // requests sent on to the upstream
	ByKind      map[Kind]int            // injections by kind
	ByOperation map[string]map[Kind]int // injections by operation, then kind
}

// Injected is the number of faults injected, every kind.
func (c Counts) Injected() int {
	n := 0
	for _, v := range c.ByKind {
		n += v
	}
	return n
}

// String is a one-line summary, kinds in a fixed order.
func (c Counts) String() string {
	parts := make([]string, 0, len(Kinds)+2)
	parts = append(parts, fmt.Sprintf("requests=%d", c.Requests))
	for _, k := range Kinds {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c.ByKind[k]))
	}
	return strings.Join(parts, " ")
}

// Add returns the sum of two proxies' counts (c's maps are not changed).
func (c Counts) Add(o Counts) Counts {
	out := c.clone()
	out.Requests += o.Requests
	out.Forwarded += o.Forwarded
	for k, v := range o.ByKind {
		out.ByKind[k] += v
	}
	for op, m := range o.ByOperation {
		if out.ByOperation[op] == nil {
			out.ByOperation[op] = map[Kind]int{}
		}
		for k, v := range m {
			out.ByOperation[op][k] += v
		}
	}
	return out
}

func (c Counts) clone() Counts {
	out := Counts{Requests: c.Requests, Forwarded: c.Forwarded, ByKind: map[Kind]int{}, ByOperation: map[string]map[Kind]int{}}
	for k, v := range c.ByKind {
		out.ByKind[k] = v
	}
	for op, m := range c.ByOperation {
		out.ByOperation[op] = map[Kind]int{}
		for k, v := range m {
			out.ByOperation[op][k] = v
		}
	}
	return out
}

// New returns a proxy in front of upstream ("http://127.0.0.1:4566").
func New(upstream string, opts Options) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q is not an http(s) URL", upstream)
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 16 << 20
	}
	tr := opts.Transport
	if tr == nil {
		tr = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	}
	return &Proxy{
		upstream: u,
		opts:     opts,
		client:   &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		counts:   Counts{ByKind: map[Kind]int{}, ByOperation: map[string]map[Kind]int{}},
	}, nil
}

// SetRules replaces the rules (and their injection limits) from now on.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append([]Rule(nil), rules...)
	p.used = make([]int, len(rules))
}

// Counts returns a copy of the counters.
func (p *Proxy) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts.clone()
}

// ResetCounts zeroes the counters.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = Counts{ByKind: map[Kind]int{}, ByOperation: map[string]map[Kind]int{}}
}

// Operation is the operation an X-Amz-Target header names
// ("DynamoDB_20120810.PutItem" -> "PutItem"); "" without the header.
func Operation(target string) string {
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		return target[i+1:]
	}
	return target
}

// choose draws the fault for one request, if any (with its delay, for
// Latency), and counts it.
func (p *Proxy) choose(op, target string, body []byte) (Rule, time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.Requests++
	for i, r := range p.rules {
		if r.Limit > 0 && p.used[i] >= r.Limit {
			continue
		}
		if !r.matches(op, target, body) {
			continue
		}
		if r.Probability < 1 && p.rng.Float64() >= r.Probability {
			continue
		}
		p.used[i]++
		p.counts.ByKind[r.Kind]++
		if p.counts.ByOperation[op] == nil {
			p.counts.ByOperation[op] = map[Kind]int{}
		}
		p.counts.ByOperation[op][r.Kind]++
		var d time.Duration
		if r.Kind == Latency {
			d = p.delay(r)
		}
		return r, d, true
	}
	return Rule{}, 0, false
}

// delay draws a Latency rule's delay; called with p.mu held.
func (p *Proxy) delay(r Rule) time.Duration {
	if r.MaxDelay <= r.MinDelay {
		return r.MinDelay
	}
	return r.MinDelay + time.Duration(p.rng.Int64N(int64(r.MaxDelay-r.MinDelay)))
}

// ServeHTTP answers one request: with the fault drawn for it, or with the
// upstream's answer.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.opts.MaxBody))
	if err != nil {
		http.Error(w, "faultproxy: cannot read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := Operation(target)
	rule, delay, inject := p.choose(op, target, body)
	if inject {
		switch rule.Kind {
		case Throttle:
			writeAWSError(w, target, http.StatusBadRequest, orDefault(rule.Code, CodeProvisionedThroughputExceeded), throttleMessage(rule.Code))
			return
		case ServerError:
			status := rule.Status
			if status == 0 {
				status = http.StatusInternalServerError
			}
			code := rule.Code
			if code == "" {
				code = map[bool]string{true: "ServiceUnavailable", false: "InternalServerError"}[status == http.StatusServiceUnavailable]
			}
			writeAWSError(w, target, status, code, "Internal server error (injected)")
			return
		case Latency:
			t := time.NewTimer(delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
	res, payload, err := p.roundTrip(r, body)
	if err != nil {
		// The upstream is gone or the caller gave up: answer as a gateway would.
		if r.Context().Err() == nil {
			http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		}
		return
	}
	if inject && rule.Kind == LostAnswer {
		resetConnection(w)
		return
	}
	for k, vs := range res.Header {
		if hopByHop[http.CanonicalHeaderKey(k)] {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(payload)))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(payload)
}

// roundTrip forwards the request and reads the whole answer, so the upstream
// has finished with it (applied it) before the proxy decides what to return.
func (p *Proxy) roundTrip(r *http.Request, body []byte) (*http.Response, []byte, error) {
	u := *p.upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + r.URL.Path
	u.RawPath = ""
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range r.Header {
		if !hopByHop[http.CanonicalHeaderKey(k)] {
			out.Header[k] = append([]string(nil), vs...)
		}
	}
	// Keep the Host the client signed (SigV4 covers it).
	out.Host = r.Host
	if p.opts.Serialize {
		p.forward.Lock()
		defer p.forward.Unlock()
	}
	p.mu.Lock()
	p.counts.Forwarded++
	p.mu.Unlock()
	res, err := p.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	payload, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	return res, payload, nil
}

var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
}

// resetConnection drops the client's connection with a TCP reset, as a
// network failure on the way back would: no status, no body.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func throttleMessage(code string) string {
	if code == CodeThrottling {
		return "Rate of requests exceeds the allowed throughput."
	}
	return "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
}

// writeAWSError answers as the AWS JSON protocol does: the error type in
// __type (DynamoDB prefixes it with its namespace; the SDK reads what follows
// the '#'), a message, and a request id.
func writeAWSError(w http.ResponseWriter, target string, status int, code, message string) {
	typ := code
	if strings.HasPrefix(target, "DynamoDB_") {
		typ = "com.amazonaws.dynamodb.v20120810#" + code
		if code == CodeThrottling {
			typ = "com.amazon.coral.availability#" + code
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("faultproxy-%d", time.Now().UnixNano()))
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, message)
}
