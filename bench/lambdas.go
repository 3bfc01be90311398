package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/devplatform/account-migration/bench/costmodel"
)

// reportCollector reads the Runtime Interface Emulator's REPORT lines from
// the stack's logs ("[CommitFunction#2] REPORT RequestId: … Duration: 12.3
// ms …"): every invocation's measured duration, by function.
type reportCollector struct {
	mu      sync.Mutex
	partial []byte
	seen    []invocationReport
}

type invocationReport struct {
	Function string
	Duration time.Duration
}

var (
	reportLine = regexp.MustCompile(`^\[(\w+)#\d+\] .*REPORT RequestId: \S+(.*)$`)
	durationOf = regexp.MustCompile(`(\w+ )?Duration: ([0-9.]+) ms`)
)

func (c *reportCollector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		if r, ok := parseReport(string(c.partial[:i])); ok {
			c.seen = append(c.seen, r)
		}
		c.partial = c.partial[i+1:]
	}
	return len(p), nil
}

// parseReport reads one REPORT line; the Duration is the one without a
// qualifier (not Init Duration, not Billed Duration).
func parseReport(line string) (invocationReport, bool) {
	m := reportLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return invocationReport{}, false
	}
	for _, d := range durationOf.FindAllStringSubmatch(m[2], -1) {
		if d[1] != "" {
			continue
		}
		ms, err := strconv.ParseFloat(d[2], 64)
		if err != nil {
			return invocationReport{}, false
		}
		return invocationReport{Function: m[1], Duration: time.Duration(ms * float64(time.Millisecond))}, true
	}
	return invocationReport{}, false
}

// take returns what was seen since the last take and forgets it.
func (c *reportCollector) take() []invocationReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.seen
	c.seen = nil
	return out
}

// templateLambdas is what the template says about its functions' billing:
// each one's MemorySize (Globals applied) and the architecture.
type templateLambdas struct {
	MemoryMB map[string]int
	Arch     string
}

// readTemplateLambdas reads template.yaml's functions.
func readTemplateLambdas(projectDir string) (templateLambdas, error) {
	out := templateLambdas{MemoryMB: map[string]int{}, Arch: "x86_64"}
	b, err := os.ReadFile(filepath.Join(projectDir, "template.yaml"))
	if err != nil {
		return out, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 {
		return out, fmt.Errorf("template.yaml: %v", err)
	}
	root := doc.Content[0]
	globalMem := 128 // SAM's default
	if g := child(child(root, "Globals"), "Function"); g != nil {
		if n := child(g, "MemorySize"); n != nil {
			globalMem, _ = strconv.Atoi(n.Value)
		}
		if a := child(g, "Architectures"); a != nil && len(a.Content) > 0 {
			out.Arch = a.Content[0].Value
		}
	}
	res := child(root, "Resources")
	if res == nil {
		return out, fmt.Errorf("template.yaml: no Resources")
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		r := res.Content[i+1]
		if t := child(r, "Type"); t == nil || t.Value != "AWS::Serverless::Function" {
			continue
		}
		mem := globalMem
		if n := child(child(r, "Properties"), "MemorySize"); n != nil {
			mem, _ = strconv.Atoi(n.Value)
		}
		out.MemoryMB[res.Content[i].Value] = mem
	}
	return out, nil
}

// child is a mapping node's value for key, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// invocations prices the reports with the template's memory sizes.
func (t templateLambdas) invocations(rs []invocationReport) []costmodel.Invocation {
	out := make([]costmodel.Invocation, 0, len(rs))
	for _, r := range rs {
		out = append(out, costmodel.Invocation{Function: r.Function, MemoryMB: t.MemoryMB[r.Function], Duration: r.Duration})
	}
	return out
}
