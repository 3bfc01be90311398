package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// opsctl import as ops run it, on a moto of its own with the template's
// tables: refusals named on stderr with exit 1 and nothing written, a dry
// run, stdin, and the JSON summary on stdout.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	srv := mototest.Start(t)
	db := dynamodb.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
	table, audit, err := stack.DeployTables(context.Background(), db, "../..")
	require.NoError(t, err)
	run1 := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		c := append([]string{"--endpoint-url", srv.Endpoint, "--region", "us-east-1", "--table", table, "--audit-table", audit, "import"}, args...)
		code := runWithStdin(context.Background(), c, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"type":"subject","id":"s-1","name":"S","kind":"company","certified":true}
{"type":"account","platform":"microapp","id":"a-1","login":"a@example.com","subjectId":"s-2"}
`), 0o600))
	code, out, errOut := run1("", bad)
	assert.Equal(t, exitFindings, code)
	assert.Contains(t, errOut, `refused: line 2 (id "a-1"): subjectId "s-2" is not a subject`)
	assert.Contains(t, errOut, "nothing was written")
	var sum struct {
		Added, Unchanged, Refused int
		ByType                    map[string]map[string]int
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	assert.Equal(t, 1, sum.Refused)

	good := `{"type":"subject","id":"s-1","name":"S","kind":"company","certified":true}
{"type":"account","platform":"microapp","id":"a-1","login":"a@example.com","subjectId":"s-1"}
{"type":"app","id":"app-1","platform":"microapp","kind":"miniprogram","name":"A","creatorAccountId":"a-1","subjectId":"s-1","certified":true}
`
	code, out, _ = run1(good, "--dry-run", "-")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, `"added":3`)
	code, out, _ = run1(good, "-")
	assert.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	assert.Equal(t, 3, sum.Added)
	assert.Equal(t, 1, sum.ByType["apps"]["added"])
	code, out, _ = run1(good, "-")
	assert.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	assert.Equal(t, 0, sum.Added)
	assert.Equal(t, 3, sum.Unchanged)

	acct, err := newStoreFor(db, table).SourceAccount(context.Background(), migration.AccountRef{Platform: "microapp", ID: "a-1"})
	require.NoError(t, err)
	assert.Equal(t, "s-1", acct.SubjectID)
}

func newStoreFor(db *dynamodb.Client, table string) *dynamostore.Store {
	return dynamostore.New(db, table)
}
