package dynamostore_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/httpapi"
	"github.com/devplatform/account-migration/shared/migration"
)

// heldCounter counts the reads of every holding of an account.
type heldCounter struct {
	*dynamostore.Store
	reads atomic.Int32
}

func (h *heldCounter) HeldItems(ctx context.Context, holder, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	if cursor == "" && batchKey == "" {
		h.reads.Add(1)
	}
	return h.Store.HeldItems(ctx, holder, batchKey, cursor, limit)
}

// GET /v1/plan reads the holdings once, then answers from memory while
// nothing that changes the plan happened; the account's own migration
// moving its batch is such a change, and the next answer shows it.
func TestPlanServedWithoutRereadingHoldings(t *testing.T) {
	e := newEnv(t, aliceApps(3).build(t))
	hc := &heldCounter{Store: e.store}
	e.m.Store = hc
	api := &httpapi.API{Migrator: e.m, Idempotency: e.store, Ops: e.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var reads int32 // holdings read by GET /v1/plan (the migration's own steps read them too)
	plan := func() map[string]any {
		before := hc.reads.Load()
		defer func() { reads += hc.reads.Load() - before }()
		res := asAlice("GET /v1/plan", "/v1/plan", "", "").do(t, api)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.Body), &out))
		return out
	}
	first := plan()
	for range 4 {
		assert.Equal(t, first, plan())
	}
	assert.EqualValues(t, 1, reads, "five answers, one read of the holdings")
	require.Len(t, first["batches"], 1)

	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	e.moveAll(t, b)
	after := plan()
	assert.EqualValues(t, 2, reads, "the migration moved the batch: read again")
	assert.Empty(t, after["batches"], "what moved is no longer planned")
	plan()
	assert.EqualValues(t, 2, reads, "and remembered again")
}
