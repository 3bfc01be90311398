package metrics

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixedNow = time.Date(2026, 11, 25, 10, 30, 0, 123_000_000, time.UTC)

func newTestEmitter() (*Emitter, *bytes.Buffer) {
	var buf bytes.Buffer
	e := New(&buf)
	e.now = func() time.Time { return fixedNow }
	return e, &buf
}

// capture routes the package's helpers to a buffer for one test.
func capture(t *testing.T) *bytes.Buffer {
	t.Helper()
	e, buf := newTestEmitter()
	old := SetDefault(e)
	t.Cleanup(func() { SetDefault(old) })
	return buf
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "every line is one JSON object: %s", sc.Text())
		out = append(out, m)
	}
	require.True(t, bytes.HasSuffix(buf.Bytes(), []byte("\n")) || buf.Len() == 0, "lines end with a newline")
	return out
}

var validUnits = map[string]bool{"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true,
	"Terabits": true, "Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true}

// checkEMF applies the rules of the EMF specification that CloudWatch Logs
// enforces when it extracts metrics: the _aws metadata shape, every
// referenced dimension and metric present at the root with the right type,
// the limits on dimensions and metrics.
func checkEMF(t *testing.T, line map[string]any) {
	t.Helper()
	meta, ok := line["_aws"].(map[string]any)
	require.True(t, ok, "_aws is an object: %v", line)
	assert.Len(t, meta, 2, "_aws holds Timestamp and CloudWatchMetrics only: %v", meta)
	ts, ok := meta["Timestamp"].(float64)
	require.True(t, ok, "Timestamp is a number")
	assert.Equal(t, float64(int64(ts)), ts, "Timestamp is whole milliseconds")
	directives, ok := meta["CloudWatchMetrics"].([]any)
	require.True(t, ok && len(directives) == 1, "one metric directive: %v", meta)
	d := directives[0].(map[string]any)
	assert.Len(t, d, 3, "a directive holds Namespace, Dimensions and Metrics: %v", d)
	assert.Equal(t, "AccountMigration", d["Namespace"])
	sets, ok := d["Dimensions"].([]any)
	require.True(t, ok && len(sets) >= 1, "Dimensions is an array of dimension sets")
	for _, s := range sets {
		keys, ok := s.([]any)
		require.True(t, ok, "a dimension set is an array: %v", s)
		assert.LessOrEqual(t, len(keys), 30)
		for _, k := range keys {
			v, ok := line[k.(string)].(string)
			assert.True(t, ok && v != "", "dimension %v is a non-empty string at the root", k)
		}
	}
	ms, ok := d["Metrics"].([]any)
	require.True(t, ok && len(ms) >= 1 && len(ms) <= 100, "1-100 metrics")
	for _, m := range ms {
		def := m.(map[string]any)
		assert.Len(t, def, 2, "a metric definition holds Name and Unit: %v", def)
		name, _ := def["Name"].(string)
		assert.NotEmpty(t, name)
		assert.True(t, validUnits[def["Unit"].(string)], "unit %v", def["Unit"])
		_, ok := line[name].(float64)
		assert.True(t, ok, "metric %s has a number at the root", name)
	}
}

func TestPutWritesTheExactEMFShape(t *testing.T) {
	e, buf := newTestEmitter()
	require.NoError(t, e.Put(context.Background(), Set{
		Dimensions: map[string]string{"TargetPlatform": "partner"},
		Properties: map[string]any{"migrationId": "m-1", "batchId": "b-1"},
		Metrics:    []Metric{{Name: "BatchesCommitted", Unit: Count, Value: 1}, {Name: "AssetsMoved", Unit: Count, Value: 42}},
	}))
	want := `{"_aws":{"Timestamp":1795602600123,"CloudWatchMetrics":[{"Namespace":"AccountMigration",` +
		`"Dimensions":[["TargetPlatform"]],"Metrics":[{"Name":"BatchesCommitted","Unit":"Count"},{"Name":"AssetsMoved","Unit":"Count"}]}]},` +
		`"AssetsMoved":42,"BatchesCommitted":1,"TargetPlatform":"partner","batchId":"b-1","migrationId":"m-1"}` + "\n"
	assert.JSONEq(t, want, buf.String())
	assert.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")), "one line per set")
	checkEMF(t, lines(t, buf)[0])
}

func TestRollupAddsTheDimensionlessSet(t *testing.T) {
	e, buf := newTestEmitter()
	require.NoError(t, e.Put(context.Background(), Set{Dimensions: map[string]string{"Step": "agreement"}, Rollup: true,
		Metrics: []Metric{{Name: "WaitingAgeSeconds", Unit: Seconds, Value: 3.5}}}))
	l := lines(t, buf)[0]
	checkEMF(t, l)
	d := l["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{[]any{"Step"}, []any{}}, d["Dimensions"], "by step, and the aggregate an alarm watches")
	assert.Equal(t, 3.5, l["WaitingAgeSeconds"])
}

func TestDimensionsAreSortedAndNeverEmpty(t *testing.T) {
	e, buf := newTestEmitter()
	require.NoError(t, e.Put(context.Background(), Set{Dimensions: map[string]string{"Step": "target", "Code": ""},
		Metrics: []Metric{{Name: "X", Unit: Count, Value: 1}}}))
	l := lines(t, buf)[0]
	checkEMF(t, l)
	d := l["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{[]any{"Code", "Step"}}, d["Dimensions"], "a stable order: one metric, not one per map order")
	assert.Equal(t, "unknown", l["Code"], "CloudWatch refuses an empty dimension value")
}

func TestPropertiesCannotBreakTheDocument(t *testing.T) {
	e, buf := newTestEmitter()
	require.NoError(t, e.Put(context.Background(), Set{Properties: map[string]any{"_aws": "oops", "note": "kept"},
		Metrics: []Metric{{Name: "X", Unit: Count, Value: 1}}}))
	l := lines(t, buf)[0]
	checkEMF(t, l)
	assert.Equal(t, "kept", l["note"])

	buf.Reset()
	require.NoError(t, e.Put(context.Background(), Set{Dimensions: map[string]string{"Code": "X"}}))
	assert.Zero(t, buf.Len(), "a set without metrics writes nothing")
}

func TestLambdaRequestIDIsOnTheLine(t *testing.T) {
	e, buf := newTestEmitter()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	require.NoError(t, e.Put(ctx, Set{Metrics: []Metric{{Name: "X", Unit: Count, Value: 1}}}))
	assert.Equal(t, "req-123", lines(t, buf)[0]["requestId"])
}

// Lambda may run goroutines that record metrics at once; each line must stay
// whole or CloudWatch drops it.
func TestConcurrentPutsNeverInterleave(t *testing.T) {
	e, buf := newTestEmitter()
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = e.Put(context.Background(), Set{Dimensions: map[string]string{"Code": fmt.Sprint("C", i%4)},
				Properties: map[string]any{"batchId": fmt.Sprint("b-", i)}, Metrics: []Metric{{Name: "X", Unit: Count, Value: float64(i)}}})
		}()
	}
	wg.Wait()
	got := lines(t, buf)
	require.Len(t, got, 64)
	for _, l := range got {
		checkEMF(t, l)
	}
}

func TestServiceHelpers(t *testing.T) {
	buf := capture(t)
	ctx := context.Background()
	BatchCommitted(ctx, "m-1", "b-1", "developer", 7)
	BatchFailed(ctx, "m-1", "b-2", "EXPIRED")
	WaitParked(ctx, "m-1", "b-3", "confirmation", 90*time.Second)
	WaitParked(ctx, "m-1", "b-4", "target", -time.Second)
	RequestFailed(ctx, "api-req-1", "POST /v1/migrations", "QUOTA_EXCEEDED", 422)

	got := lines(t, buf)
	require.Len(t, got, 5)
	for _, l := range got {
		checkEMF(t, l)
		for _, k := range []string{"accountId", "source", "targetAccountId", "login"} {
			assert.NotContains(t, l, k, "no account data in metrics")
		}
	}
	assert.Equal(t, float64(1), got[0][BatchesCommitted])
	assert.Equal(t, float64(7), got[0][AssetsMoved])
	assert.Equal(t, "developer", got[0]["TargetPlatform"])
	assert.Equal(t, "b-1", got[0]["batchId"])
	assert.Equal(t, "EXPIRED", got[1]["Code"])
	assert.Equal(t, float64(1), got[1][BatchesFailed])
	assert.Equal(t, float64(90), got[2][WaitingAgeSeconds])
	assert.Equal(t, "confirmation", got[2]["Step"])
	assert.Equal(t, float64(0), got[3][WaitingAgeSeconds], "never negative")
	assert.Equal(t, "QUOTA_EXCEEDED", got[4]["Code"])
	assert.Equal(t, float64(422), got[4]["status"])
	assert.Equal(t, "api-req-1", got[4]["apiRequestId"])
}
