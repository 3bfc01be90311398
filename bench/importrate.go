package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/moto"
	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
)

const secImport = "9. Import (opsctl import against a raw BatchWriteItem load of the rows it wrote, same moto endpoint, one writer each)"

// importRun is one input size: the real opsctl binary importing a generated
// JSON Lines file into empty tables, and the same records loaded raw.
type importRun struct {
	Records   int
	Import    time.Duration // the whole opsctl import: check passes and writes
	Raw       time.Duration // BatchWriteItem of one row per record, 25 a call
	PeakRSSKB int64         // opsctl's peak resident memory (its VmHWM)
	Added     int
}

func (r importRun) rate() float64    { return float64(r.Records) / r.Import.Seconds() }
func (r importRun) rawRate() float64 { return float64(r.Records) / r.Raw.Seconds() }

// importRates runs each size on one fresh moto server, reset between loads.
func (e env) importRates(ctx context.Context, sizes []int, logDir string) ([]importRun, error) {
	bin := filepath.Join(logDir, "opsctl")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/opsctl")
	build.Dir, build.Stderr = e.projectDir, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build opsctl: %w", err)
	}
	srv, err := moto.Start(ctx, moto.Options{Stderr: e.logs})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	db := dynamodb.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
	var runs []importRun
	for _, n := range sizes {
		file := filepath.Join(logDir, fmt.Sprintf("import-%d.jsonl", n))
		if err := writeRecordsFile(file, n); err != nil {
			return nil, err
		}
		r := importRun{Records: n}
		table, audit, err := freshTables(ctx, srv.Endpoint, db, e.projectDir)
		if err != nil {
			return nil, err
		}
		slog.Info("opsctl import", "records", n)
		if err := runImport(ctx, bin, srv.Endpoint, table, audit, file, &r); err != nil {
			return nil, err
		}
		// The baseline writes exactly the rows the import wrote (keys, index
		// attributes and all), read back, into fresh tables.
		rows, err := scanRows(ctx, db, table)
		if err != nil {
			return nil, err
		}
		if table, _, err = freshTables(ctx, srv.Endpoint, db, e.projectDir); err != nil {
			return nil, err
		}
		slog.Info("raw BatchWriteItem load", "rows", len(rows))
		if r.Raw, err = rawLoad(ctx, db, table, rows); err != nil {
			return nil, err
		}
		slog.Info("import measured", "records", n, "import", r.Import.Round(time.Millisecond), "raw", r.Raw.Round(time.Millisecond), "peakRSSKB", r.PeakRSSKB)
		runs = append(runs, r)
	}
	return runs, nil
}

func writeRecordsFile(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := demo.WriteRecords(f, n); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// freshTables empties moto and deploys the template's tables again.
func freshTables(ctx context.Context, endpoint string, db *dynamodb.Client, projectDir string) (table, audit string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/moto-api/reset", nil)
	if err != nil {
		return "", "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	res.Body.Close()
	return stack.DeployTables(ctx, db, projectDir)
}

// scanRows reads every row of table.
func scanRows(ctx context.Context, db *dynamodb.Client, table string) ([]map[string]types.AttributeValue, error) {
	var rows []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		rows = append(rows, page.Items...)
	}
	return rows, nil
}

// rawLoad is the store's best case for the import's own rows: put 25 a
// call with no condition and no check, UnprocessedItems sent again.
func rawLoad(ctx context.Context, db *dynamodb.Client, table string, rows []map[string]types.AttributeValue) (time.Duration, error) {
	began := time.Now()
	for start := 0; start < len(rows); start += 25 {
		var batch []types.WriteRequest
		for _, row := range rows[start:min(start+25, len(rows))] {
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: row}})
		}
		pending := map[string][]types.WriteRequest{table: batch}
		for len(pending[table]) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return 0, err
			}
			pending = out.UnprocessedItems
		}
	}
	return time.Since(began), nil
}

// runImport runs the real opsctl binary and reads its summary, wall time
// and peak memory.
func runImport(ctx context.Context, bin, endpoint, table, audit, file string, r *importRun) error {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--endpoint-url", endpoint, "--region", "us-east-1", "--table", table, "--audit-table", audit, "import", file)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("opsctl import: %w", err)
	}
	// Peak memory is the process's own high-water mark (VmHWM), read while
	// it runs. getrusage's ru_maxrss is not: Linux carries the parent's
	// resident size at fork into the child's figure, so it measured this
	// bench (which grows with the input it generates) instead of opsctl.
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var hwm int64
		for {
			hwm = max(hwm, vmHWM(cmd.Process.Pid))
			select {
			case <-done:
				peak <- hwm
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	r.PeakRSSKB = <-peak
	if err != nil {
		return fmt.Errorf("opsctl import: %w: %s", err, errOut.String())
	}
	r.Import = time.Since(began)
	var sum struct {
		Added int `json:"added"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		return fmt.Errorf("opsctl import summary %q: %w", out.String(), err)
	}
	r.Added = sum.Added
	if sum.Added != r.Records {
		return fmt.Errorf("opsctl import added %d of %d records", sum.Added, r.Records)
	}
	return nil
}

// vmHWM is a running process's peak resident memory in KB (0 once gone).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// importFigures: the import's rate against the raw load's, and how its
// peak memory grows from the smallest size to the largest.
func importFigures(runs []importRun) []figure {
	var figs []figure
	for _, r := range runs {
		ratio := r.rate() / r.rawRate()
		figs = append(figs,
			figure{Section: secImport, Name: fmt.Sprintf("import_rate_%d", r.Records), Label: fmt.Sprintf("opsctl import of %d records", r.Records),
				Value: r.rate(), Unit: "records/s", Note: fmt.Sprintf("%s, checks included", r.Import.Round(time.Millisecond))},
			figure{Section: secImport, Name: fmt.Sprintf("raw_batchwrite_rate_%d", r.Records), Label: fmt.Sprintf("raw BatchWriteItem of the same %d records", r.Records),
				Value: r.rawRate(), Unit: "records/s", Note: r.Raw.Round(time.Millisecond).String()},
			figure{Section: secImport, Name: fmt.Sprintf("import_rate_ratio_%d", r.Records), Label: fmt.Sprintf("import / raw load, %d records", r.Records),
				Value: ratio, Unit: "ratio", Target: "≥ 0.8", Met: met(ratio >= 0.8)},
			figure{Section: secImport, Name: fmt.Sprintf("import_peak_rss_%d", r.Records), Label: fmt.Sprintf("opsctl import's peak memory, %d records", r.Records),
				Value: float64(r.PeakRSSKB) / 1024, Unit: "MiB"})
	}
	if len(runs) >= 2 {
		lo, hi := runs[0], runs[len(runs)-1]
		growth := float64(hi.PeakRSSKB) / float64(lo.PeakRSSKB)
		figs = append(figs, figure{Section: secImport, Name: "import_peak_rss_growth", Label: fmt.Sprintf("peak memory at %d records / at %d", hi.Records, lo.Records),
			Value: growth, Unit: "ratio", Target: "≤ 1.2", Met: met(growth <= 1.2)})
	}
	return figs
}
