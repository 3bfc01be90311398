package stack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// importRecords is the generated input's size: a few minutes of the import
// workflow on a loaded machine (`make import-scale` runs 10^5 through
// opsctl's own pass).
const importRecords = 3000

// opsctlRun runs the real opsctl against the stack: its exit code, stdout
// and stderr.
func opsctlRun(t *testing.T, s *stack.Stack, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--endpoint-url", s.AWSEndpoint, "--region", s.Region, "--table", s.TableName, "--audit-table", s.AuditTableName}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// On the local stack, the import workflow (ops put JSON Lines under
// imports/ of the stack's import bucket with the aws CLI, then `opsctl
// import s3://...`) imports a generated input to the same table as opsctl's
// own pass over the same file: opsctl import of the file afterwards finds
// every record unchanged, reconcile is clean, and the workflow run again
// adds nothing. A refused record fails the run, named, with nothing written.
func TestImportWorkflowOnTheStack(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole stack and an import of thousands of records")
	}
	s := stacktest.Start(t, stack.Options{ProjectDir: "../..", PoolSize: 2})
	dir := t.TempDir()
	bin := stacktest.BuildOpsctl(t, "../..")

	var bucket string
	for _, b := range stacktest.AWSCLI(t, s, "s3api", "list-buckets")["Buckets"].([]any) {
		if name := b.(map[string]any)["Name"].(string); strings.Contains(name, "-imports-") {
			bucket = name
		}
	}
	require.NotEmpty(t, bucket, "the stack creates the template's ImportBucket")

	var records bytes.Buffer
	require.NoError(t, demo.WriteRecords(&records, importRecords))
	file := filepath.Join(dir, "records.jsonl")
	require.NoError(t, os.WriteFile(file, records.Bytes(), 0o600))
	// Two objects, the members, data and orders first in key order: their
	// subjects, accounts and apps are in the other object.
	lines := bytes.SplitAfter(records.Bytes(), []byte("\n"))
	half := len(lines) / 2
	parts := map[string][]byte{"a-rest.jsonl": bytes.Join(lines[half:], nil), "b-first.jsonl": bytes.Join(lines[:half], nil)}
	for name, body := range parts {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, body, 0o600))
		stacktest.AWSCLI(t, s, "s3api", "put-object", "--bucket", bucket, "--key", "imports/first/"+name, "--body", p)
	}

	began := time.Now()
	code, stdout, stderr := opsctlRun(t, s, bin, "import", "s3://"+bucket+"/imports/first/")
	require.Equal(t, 0, code, stderr)
	t.Logf("import workflow: %d records in %s", importRecords, time.Since(began).Round(time.Millisecond))
	assert.Contains(t, stderr, "import workflow started: ")
	var sum importer.Summary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
	assert.Equal(t, importRecords, sum.Added)

	// opsctl's own pass over the same file finds the table it would make.
	code, stdout, stderr = opsctlRun(t, s, bin, "import", file)
	require.Equal(t, 0, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
	assert.Equal(t, 0, sum.Added, "the workflow wrote every record as opsctl import writes it")
	assert.Equal(t, importRecords, sum.Unchanged)

	code, stdout, stderr = opsctlRun(t, s, bin, "import", "s3://"+bucket+"/imports/first/")
	require.Equal(t, 0, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
	assert.Equal(t, 0, sum.Added, "the workflow run again adds nothing")
	assert.Equal(t, importRecords, sum.Unchanged)

	db := stacktest.DynamoDB(s)
	recs, err := dynamostore.ScanRecords(t.Context(), db, s.TableName, 2, s.AuditTableName)
	require.NoError(t, err)
	rep := reconcile.Check(recs.Records, time.Now())
	require.True(t, rep.OK(), rep.Text())
	count := func() int32 {
		out := stacktest.AWSCLI(t, s, "dynamodb", "scan", "--table-name", s.TableName, "--select", "COUNT", "--consistent-read")
		return int32(out["Count"].(float64))
	}
	before := count()

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"type":"subject","id":"subj-late","name":"Late Co","kind":"company","certified":true}
{"type":"order","id":"ord-404","assetId":"app-404","amountCents":100,"currency":"CNY","status":"paid"}
`), 0o600))
	stacktest.AWSCLI(t, s, "s3api", "put-object", "--bucket", bucket, "--key", "imports/bad/a.jsonl", "--body", bad)
	code, _, stderr = opsctlRun(t, s, bin, "import", "s3://"+bucket+"/imports/bad/")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, `refused: s3://`+bucket+`/imports/bad/a.jsonl line 2 (id "ord-404"): assetId "app-404"`)
	assert.Contains(t, stderr, "1 record(s) refused; nothing was written")
	assert.Equal(t, before, count(), "nothing written")

	code, _, stderr = opsctlRun(t, s, bin, "import", "s3://"+bucket+"/elsewhere/")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "reads only imports/")
}
