package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/api"
	"github.com/devplatform/account-migration/api/client"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
)

var update = flag.Bool("update", false, "rewrite the examples of api/openapi.yaml from the answers of the local stack")

// examplesMarker starts the generated part of openapi.yaml.
const examplesMarker = "  examples:\n"

// Every example of the spec validates against its schema (kin-openapi checks
// them on load), and every operation has one (its served spec aside).
func TestSpecExamplesValidate(t *testing.T) {
	doc, err := client.Spec()
	require.NoError(t, err, "api/openapi.yaml, its examples included, must validate")
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "getOpenAPI" || op.OperationID == "getConsole" {
				continue // its example would be this file, or the console's whole page
			}
			n := 0
			for st, ref := range op.Responses.Map() {
				if strings.HasPrefix(st, "2") {
					for _, mt := range ref.Value.Content {
						n += len(mt.Examples)
					}
				}
			}
			assert.NotZero(t, n, "%s %s (%s) has no example", method, path, op.OperationID)
		}
	}
}

// TestExamplesFromTheStack drives one developer's migration through every
// operation of the running local stack. Every answer is validated against the
// spec on the way (the client's transport); the answers are the spec's
// examples, and with -update they are written into it.
func TestExamplesFromTheStack(t *testing.T) {
	doc, err := client.LoadSpec(api.OpenAPI, !*update)
	require.NoError(t, err)
	s := stacktest.Start(t, stack.Options{ProjectDir: ".."})

	hc := &http.Client{Transport: client.NewValidatorOf(doc, nil, func(err error) { t.Error(err) })}
	tok, err := s.Token("microapp", "ma-1001", "alice@example.com")
	require.NoError(t, err)
	alice := client.New(s.APIURL, tok, hc)
	got := drive(t, s, alice)

	refs := referencedExamples(t)
	for _, name := range refs {
		assert.Contains(t, got, name, "no operation answered the example %s", name)
	}
	if *update && !t.Failed() {
		writeExamples(t, got)
	}
}

type captured struct {
	mu sync.Mutex
	m  map[string]json.RawMessage
}

func (c *captured) keep(t *testing.T, name string, res *client.Response, err error) {
	t.Helper()
	require.NoError(t, err, name)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[name] = res.Body
}

// drive calls every operation once as alice (two batches), committing one
// batch, and returns the answers by example name (<operationId>-<status>).
func drive(t *testing.T, s *stack.Stack, alice *client.Client) map[string]json.RawMessage {
	ctx := context.Background()
	c := &captured{m: map[string]json.RawMessage{}}
	_, res, err := alice.Health(ctx)
	c.keep(t, "healthz-200", res, err)
	spec, res, err := alice.As("").OpenAPI(ctx)
	require.NoError(t, err)
	if !*update { // -update rewrites the file the binary embedded
		assert.True(t, bytes.Equal(api.OpenAPI, spec), "the stack serves api/openapi.yaml as it is (stale binary? make build-local)")
	}
	assert.Equal(t, "application/yaml", res.Header.Get("Content-Type"))

	_, res, err = alice.Assets(ctx, client.Page{})
	c.keep(t, "listAssets-200", res, err)
	_, res, err = alice.Plan(ctx)
	c.keep(t, "getPlan-200", res, err)
	started, res, err := alice.StartMigration(ctx, nil, client.IdempotencyKey("example-start-1"))
	c.keep(t, "startMigration-202", res, err)
	require.Equal(t, http.StatusAccepted, res.Status)
	_, res, err = alice.StartMigration(ctx, nil, client.IdempotencyKey("example-start-2"))
	c.keep(t, "startMigration-200", res, err)
	require.Equal(t, http.StatusOK, res.Status, "asking again returns the active migration")

	mid := started.MigrationID
	var bid string
	for _, b := range started.Batches {
		if b.BatchKey == "subj-acme/developer" {
			bid = b.BatchID
		}
	}
	require.NotEmpty(t, bid, "alice's subj-acme/developer batch: %+v", started.Batches)
	_, res, err = alice.Review(ctx, mid, bid, client.Page{})
	c.keep(t, "reviewBatch-200", res, err)
	ag, res, err := alice.Agreement(ctx)
	c.keep(t, "getAgreement-200", res, err)
	_, res, err = alice.AcceptAgreement(ctx, mid, bid, client.AcceptRequest{Version: ag.Version, SHA256: ag.SHA256}, client.IdempotencyKey("example-accept-1"))
	c.keep(t, "acceptAgreement-200", res, err)
	_, res, err = alice.Targets(ctx, mid, bid)
	c.keep(t, "listTargets-200", res, err)
	_, res, err = alice.SelectTarget(ctx, mid, bid, client.ExistingTarget("dev-alice-1"), client.IdempotencyKey("example-target-1"))
	c.keep(t, "selectTarget-200", res, err)
	_, res, err = alice.Commit(ctx, mid, bid, client.IdempotencyKey("example-commit-1"))
	c.keep(t, "commitBatch-202", res, err)

	deadline := time.Now().Add(90 * time.Second)
	for {
		m, res, err := alice.Migration(ctx, mid)
		require.NoError(t, err)
		if b := m.Batch(bid); b != nil && b.State == "COMMITTED" {
			c.keep(t, "getMigration-200", res, err)
			break
		}
		require.False(t, time.Now().After(deadline), "the batch never committed: %s", res.Body)
		time.Sleep(200 * time.Millisecond)
	}
	_, res, err = alice.Receipt(ctx, mid, bid, client.Page{})
	c.keep(t, "getReceipt-200", res, err)
	_, res, err = alice.Migrations(ctx, client.Page{})
	c.keep(t, "listMigrations-200", res, err)
	_, res, err = alice.TargetAccount(ctx, "developer", "dev-alice-1", client.Page{})
	c.keep(t, "getTargetAccount-200", res, err)
	opsTok, err := s.Token("microapp", "ops-1", "ops@example.com", "migration:ops")
	require.NoError(t, err)
	_, res, err = alice.As(opsTok).OpsAccountMigration(ctx, "microapp", "ma-1001")
	c.keep(t, "opsGetAccountMigration-200", res, err)
	return c.m
}

func referencedExamples(t *testing.T) []string {
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`#/components/examples/([A-Za-z0-9-]+)`).FindAllSubmatch(api.OpenAPI, -1) {
		seen[string(m[1])] = true
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	require.NotEmpty(t, out)
	return out
}

// writeExamples replaces everything below the examples marker of openapi.yaml.
func writeExamples(t *testing.T, got map[string]json.RawMessage) {
	src := api.OpenAPI
	i := bytes.LastIndex(src, []byte(examplesMarker))
	require.NotEqual(t, -1, i, "openapi.yaml has no %q line", examplesMarker)
	var b bytes.Buffer
	b.Write(src[:i+len(examplesMarker)])
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var pretty bytes.Buffer
		require.NoError(t, json.Indent(&pretty, got[n], "        ", "  "))
		b.WriteString("    " + n + ":\n      summary: a real answer of the local stack\n      value:\n        " + pretty.String() + "\n")
	}
	require.NoError(t, os.WriteFile("openapi.yaml", b.Bytes(), 0o644))
}
