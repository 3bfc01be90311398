package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/importer"
)

// scaleRecords is the size of the import the test finishes, re-runs as a
// no-op, and finishes after a kill: 2 x 10^4 in make test (minutes in moto
// on a loaded machine); `make import-scale` runs the 10^5 the contract names
// (IMPORT_SCALE_RECORDS=100000).
func scaleRecords(t *testing.T) int {
	if v := os.Getenv("IMPORT_SCALE_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "IMPORT_SCALE_RECORDS")
		return n
	}
	return 20_000
}

// The real opsctl binary imports a generated file of scaleRecords records
// into a fresh table; run again it adds nothing. Beside it, a run of the
// same file killed (SIGKILL) half-way and then run again leaves exactly the
// same table.
func TestImportAtScaleSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("tens of thousands of records: minutes in moto (make test runs it)")
	}
	scaleRecords := scaleRecords(t)
	t.Parallel()
	dir := t.TempDir()
	bin := stacktest.BuildOpsctl(t, "../..")
	file := filepath.Join(dir, "records.jsonl")
	f, err := os.Create(file)
	require.NoError(t, err)
	require.NoError(t, demo.WriteRecords(f, scaleRecords))
	require.NoError(t, f.Close())

	clean, killed := make(chan map[string]bool, 1), make(chan map[string]bool, 1)
	t.Run("clean", func(t *testing.T) {
		t.Parallel()
		var rows map[string]bool
		defer func() { clean <- rows }()
		e := newEnv(t)
		sum := e.opsctl(t, bin, file)
		assert.Equal(t, scaleRecords, sum.Added)
		again := e.opsctl(t, bin, file)
		assert.Equal(t, 0, again.Added, "a second run adds nothing")
		assert.Equal(t, scaleRecords, again.Unchanged)
		e.reconcileClean(t)
		rows = e.rows(t)
	})
	t.Run("killed", func(t *testing.T) {
		t.Parallel()
		var rows map[string]bool
		defer func() { killed <- rows }()
		e := newEnv(t)
		cmd := e.command(bin, file)
		require.NoError(t, cmd.Start())
		// Kill it once a tenth of the records are in the table: early enough
		// that it has not finished (each count scans the table, so the poll
		// slows as the table grows, and a small import writes fast).
		deadline := time.Now().Add(15 * time.Minute)
		for e.count(t) < scaleRecords/10 {
			require.True(t, time.Now().Before(deadline), "the import never wrote a tenth of its records")
			time.Sleep(250 * time.Millisecond)
		}
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		written := e.count(t)
		require.Less(t, written, scaleRecords, "killed before it finished")

		sum := e.opsctl(t, bin, file) // waits for the killed run's lock to lapse
		assert.Equal(t, scaleRecords, sum.Added+sum.Unchanged)
		assert.Positive(t, sum.Added, "the re-run finished what the killed run left")
		assert.Positive(t, sum.Unchanged)
		e.reconcileClean(t)
		rows = e.rows(t)
	})
	t.Cleanup(func() {
		a, b := <-clean, <-killed
		if a == nil || b == nil {
			return
		}
		assert.Equal(t, len(a), len(b))
		assert.True(t, mapsEqual(a, b), "a killed and re-run import leaves the same table as one clean run")
	})
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func (e *env) command(bin, file string) *exec.Cmd {
	cmd := exec.Command(bin, "--endpoint-url", e.endpoint, "--region", "us-east-1",
		"--table", e.store.Table(), "--audit-table", e.store.AuditTable(), "import", file)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	return cmd
}

// opsctl runs the binary to the end and decodes its JSON summary.
func (e *env) opsctl(t *testing.T, bin, file string) importer.Summary {
	t.Helper()
	cmd := e.command(bin, file)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), errOut.String())
	var sum importer.Summary
	require.NoError(t, json.Unmarshal(out.Bytes(), &sum), out.String())
	return sum
}

// count is how many old-platform records the table holds (items, subjects,
// accounts), by a consistent count.
func (e *env) count(t *testing.T) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: aws.String(e.store.Table()), Select: types.SelectCount})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		n += int(page.Count)
	}
	return n
}
