package statemachine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/moto"
	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// importWorld is moto (with the launcher's patches: the ItemReader lists
// every object) whose Lambda invokes reach the import steps in this process,
// as the local stack's front sends them to the function's binary.
type importWorld struct {
	ctx    context.Context
	db     *dynamodb.Client
	s3     *s3.Client
	sf     *sfn.Client
	store  *dynamostore.Store
	bucket string
	arn    string
}

func newImportWorld(t *testing.T) *importWorld {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var upstream atomic.Pointer[httputil.ReverseProxy]
	var steps atomic.Pointer[importer.Steps]
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") && strings.HasSuffix(r.URL.Path, "/invocations") {
			invoke(w, r, steps.Load())
			return
		}
		upstream.Load().ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	m := mototest.StartWith(t, moto.Options{LambdaPort: ln.Addr().(*net.TCPAddr).Port})
	u, err := url.Parse(m.Endpoint)
	require.NoError(t, err)
	upstream.Store(httputil.NewSingleHostReverseProxy(u))
	cfg := mototest.AWSConfig(m.Endpoint)
	w := &importWorld{ctx: ctx, db: dynamodb.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sf: sfn.NewFromConfig(cfg), bucket: "account-migration-imports-test"}
	table, audit, err := stack.DeployTables(ctx, w.db, "..")
	require.NoError(t, err)
	w.store = dynamostore.New(w.db, table).WithAuditTable(audit)
	_, err = w.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.bucket)})
	require.NoError(t, err)
	steps.Store(&importer.Steps{S3: w.s3, Bucket: w.bucket, Owner: "123456789012", Table: w.store.ImportTable(), Lease: w.store.ImportLease(), LeaseFor: dynamostore.ImportLease})

	raw, err := os.ReadFile("import.asl.json")
	require.NoError(t, err)
	def := strings.NewReplacer("${ImportFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:ImportFunction",
		"${ImportBucketName}", w.bucket, "${ImportMaxConcurrency}", "4").Replace(string(raw))
	out, err := w.sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("import"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/ImportStateMachineRole")})
	require.NoError(t, err)
	w.arn = aws.ToString(out.StateMachineArn)
	return w
}

// invoke answers a Lambda invoke as the runtime does: the handler's
// result, or its error with the Go type's name as errorType.
func invoke(w http.ResponseWriter, r *http.Request, steps *importer.Steps) {
	var in importer.Step
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := steps.Handle(r.Context(), in)
	if err != nil {
		ty := reflect.TypeOf(err)
		for ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_ = json.NewEncoder(w).Encode(map[string]string{"errorType": ty.Name(), "errorMessage": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(res)
}

func (w *importWorld) put(t *testing.T, key string, body []byte) {
	t.Helper()
	_, err := w.s3.PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	require.NoError(t, err)
}

func (w *importWorld) run(t *testing.T, input string) *sfn.DescribeExecutionOutput {
	t.Helper()
	start, err := w.sf.StartExecution(w.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(w.arn), Input: aws.String(input)})
	require.NoError(t, err)
	return stacktest.WaitExecution(t, w.sf, aws.ToString(start.ExecutionArn), 3*time.Minute)
}

// splitReversed cuts JSON Lines into n objects whose key order puts the
// last lines (members, data, orders) before the first (their subjects and
// accounts): references cross objects, and parents come last.
func splitReversed(records []byte, n int) [][]byte {
	lines := bytes.SplitAfter(bytes.TrimRight(records, "\n"), []byte("\n"))
	parts := make([][]byte, n)
	per := (len(lines) + n - 1) / n
	for i, l := range lines {
		part := n - 1 - i/per
		parts[part] = append(parts[part], l...)
	}
	return parts
}

// The import workflow on moto: a generated input split into objects whose
// records refer across them (children listed first) imports to exactly the
// table opsctl import's engine (importer.Run) makes of the same records;
// run again it adds nothing; a refused record fails it naming the record,
// with nothing written.
func TestImportWorkflowMatchesOpsctlImport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the import workflow on moto")
	}
	var records bytes.Buffer
	require.NoError(t, demo.WriteRecords(&records, 600))
	total := bytes.Count(records.Bytes(), []byte("\n"))

	// The reference: opsctl's single pass, in a table of its own.
	ref := newImportWorld(t)
	file := t.TempDir() + "/records.jsonl"
	require.NoError(t, os.WriteFile(file, records.Bytes(), 0o600))
	want, err := importer.Run(ref.ctx, importer.FileSource{Path: file}, ref.store.ImportTable(), importer.Options{})
	require.NoError(t, err)
	require.Equal(t, total, want.Added)

	w := newImportWorld(t)
	for i, part := range splitReversed(records.Bytes(), 3) {
		w.put(t, "imports/first/part-"+string(rune('a'+i))+".jsonl", part)
	}
	w.put(t, "imports/first/", nil) // a "folder" marker: no records

	d := w.run(t, `{"prefix": "imports/first/"}`)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, d.Status, "%s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	var got importer.Summary
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(d.Output)), &got))
	assert.Equal(t, want.Added, got.Added)
	assert.Equal(t, want.ByType["apps"].Added, got.ByType["apps"].Added)
	assert.Equal(t, stacktest.RowSet(t, ref.db, ref.store.Table()), stacktest.RowSet(t, w.db, w.store.Table()),
		"the workflow leaves the table opsctl import leaves")
	recs, err := dynamostore.ScanRecords(w.ctx, w.db, w.store.Table(), 2, w.store.AuditTable())
	require.NoError(t, err)
	rep := reconcile.Check(recs.Records, time.Now())
	require.True(t, rep.OK(), rep.Text())

	again := w.run(t, `{"prefix": "imports/first/"}`)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, again.Status, "%s: %s", aws.ToString(again.Error), aws.ToString(again.Cause))
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(again.Output)), &got))
	assert.Equal(t, 0, got.Added, "a second run adds nothing")
	assert.Equal(t, total, got.Unchanged)

	// A dry run says what it would add, and writes nothing.
	before := stacktest.RowSet(t, w.db, w.store.Table())
	w.put(t, "imports/dry/a.jsonl", []byte(`{"type":"subject","id":"subj-dry","name":"Dry Co","kind":"company","certified":true}`+"\n"))
	dry := w.run(t, `{"prefix": "imports/dry/", "dryRun": true}`)
	require.Equal(t, sfntypes.ExecutionStatusSucceeded, dry.Status, "%s: %s", aws.ToString(dry.Error), aws.ToString(dry.Cause))
	got = importer.Summary{}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(dry.Output)), &got))
	assert.True(t, got.DryRun)
	assert.Equal(t, 1, got.Added)
	assert.Equal(t, before, stacktest.RowSet(t, w.db, w.store.Table()), "a dry run writes nothing")

	// One good new record and one whose asset is nowhere: refused, named
	// with its object and line, nothing written.
	w.put(t, "imports/second/a.jsonl", []byte(`{"type":"subject","id":"subj-new","name":"New Co","kind":"company","certified":true}
{"type":"order","id":"ord-x","assetId":"app-404","amountCents":100,"currency":"CNY","status":"paid"}
`))
	bad := w.run(t, `{"prefix": "imports/second/"}`)
	require.Equal(t, sfntypes.ExecutionStatusFailed, bad.Status)
	assert.Equal(t, "RecordsRefused", aws.ToString(bad.Error))
	obj, err := w.s3.GetObject(w.ctx, &s3.GetObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(importer.RunPrefix(executionName(bad)) + "refused.jsonl")})
	require.NoError(t, err)
	refused, err := importer.ReadRefusals(obj.Body)
	require.NoError(t, err)
	require.Len(t, refused, 1)
	assert.Equal(t, "s3://"+w.bucket+`/imports/second/a.jsonl line 2 (id "ord-x")`, refused[0].At)
	assert.Contains(t, refused[0].Problem, `"app-404"`)
	assert.Equal(t, before, stacktest.RowSet(t, w.db, w.store.Table()), "nothing written")

	// A prefix outside imports/ is refused before anything runs.
	assert.Equal(t, "InvalidInput", aws.ToString(w.run(t, `{"prefix": "runs/"}`).Error))
}

func executionName(d *sfn.DescribeExecutionOutput) string {
	arn := aws.ToString(d.ExecutionArn)
	return arn[strings.LastIndex(arn, ":")+1:]
}
