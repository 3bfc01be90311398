package importer

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/shared/migration"
)

// nullTable answers as an empty table does and writes nowhere: what is left
// of an import is its own work (decoding, checks, the state it keeps), to
// profile apart from the store's (go test -bench Run -cpuprofile/-memprofile).
type nullTable struct{}

func (nullTable) Resolve(context.Context, []migration.Ref) (Resolved, error) { return Resolved{}, nil }
func (nullTable) Judge(_ context.Context, recs []migration.Record) ([]Judged, error) {
	return make([]Judged, len(recs)), nil
}
func (nullTable) Write(_ context.Context, recs []migration.Record, _ migration.Known) (Written, error) {
	w := Written{Added: map[string]int{}}
	for _, r := range recs {
		w.Added[migration.ListOf(r.Type)]++
	}
	return w, nil
}
func (nullTable) Lock(context.Context, string, func(string, time.Time)) (func(), error) {
	return func() {}, nil
}

func benchRun(b *testing.B, n int) {
	p := filepath.Join(b.TempDir(), "records.jsonl")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := demo.WriteRecords(f, n); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	var peak uint64
	for range b.N {
		profiled := false
		sum, err := Run(context.Background(), FileSource{Path: p}, nullTable{}, Options{Progress: func(ph Phase, _, _ int64) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			// IMPORT_HEAP_PROFILE: what is live as the writes start.
			if out := os.Getenv("IMPORT_HEAP_PROFILE"); out != "" && ph == PhaseWrite && !profiled {
				profiled = true
				if f, err := os.Create(out); err == nil {
					runtime.GC()
					_ = pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}})
		if err != nil || sum.Added != n {
			b.Fatalf("added %d of %d: %v", sum.Added, n, err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func BenchmarkRun(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchRun(b, n) })
	}
}
