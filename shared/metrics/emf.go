// Package metrics writes CloudWatch metrics in the embedded metric format
// (EMF): one JSON line per metric set on stdout. Lambda ships stdout to
// CloudWatch Logs, which extracts the metrics, so recording one costs no API
// call, no IAM permission and no latency on the step that records it.
//
// Dimensions stay small and bounded (target platform, error code, step);
// ids go into the line as plain properties, searchable in Logs Insights but
// never dimensions (one metric per id would be unbounded cost).
package metrics

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Namespace holds every metric of the service.
const Namespace = "AccountMigration"

// Unit is a CloudWatch unit name.
type Unit string

// Units the service records.
const (
	Count   Unit = "Count"
	Seconds Unit = "Seconds"
)

// Metric is one value of a set.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Set is what one EMF line records: metrics sharing one set of dimension
// values at one instant.
type Set struct {
	// Dimensions name the metric (with its name); values must be bounded.
	Dimensions map[string]string
	// Rollup also records the metrics without any dimension, the aggregate
	// an alarm watches without naming every dimension value.
	Rollup bool
	// Properties are extra members of the line (ids), never dimensions.
	Properties map[string]any
	Metrics    []Metric
}

// Emitter writes EMF lines to one writer, a whole line per write so lines
// from concurrent goroutines never interleave.
type Emitter struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

// New writes to out.
func New(out io.Writer) *Emitter {
	return &Emitter{out: out, now: time.Now}
}

var (
	defaultMu sync.RWMutex
	std       = New(os.Stdout)
)

// Default is the emitter the service's helpers use: stdout, where Lambda
// collects it.
func Default() *Emitter {
	defaultMu.RLock()
	defer defaultMu.RUnlock()
	return std
}

// SetDefault replaces the default emitter and returns the previous one
// (tests capture lines this way).
func SetDefault(e *Emitter) *Emitter {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	old := std
	std = e
	return old
}

// reserved members of the line that a property may not overwrite.
var reserved = map[string]bool{"_aws": true}

// Put writes one set. A set without metrics writes nothing. The Lambda
// request id (when ctx has one) is added as the requestId property, so a
// metric line leads to the invocation's other log lines.
func (e *Emitter) Put(ctx context.Context, s Set) error {
	if len(s.Metrics) == 0 {
		return nil
	}
	line := map[string]any{}
	for k, v := range s.Properties {
		if !reserved[k] {
			line[k] = v
		}
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		line["requestId"] = lc.AwsRequestID
	}

	dims := make([]string, 0, len(s.Dimensions))
	for k, v := range s.Dimensions {
		if v == "" {
			v = "unknown" // CloudWatch refuses an empty dimension value
		}
		line[k] = v
		dims = append(dims, k)
	}
	sort.Strings(dims)
	sets := [][]string{dims}
	if s.Rollup && len(dims) > 0 {
		sets = append(sets, []string{})
	}

	defs := make([]metricDef, 0, len(s.Metrics))
	for _, m := range s.Metrics {
		defs = append(defs, metricDef{Name: m.Name, Unit: m.Unit})
		line[m.Name] = m.Value
	}
	line["_aws"] = metadata{
		Timestamp: e.now().UnixMilli(),
		CloudWatchMetrics: []directive{{
			Namespace:  Namespace,
			Dimensions: sets,
			Metrics:    defs,
		}},
	}

	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.out.Write(b)
	return err
}

// The EMF document's metadata (the "_aws" member).
type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type metricDef struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}
