package dynamostore_test

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// The developer's record over the real store: the history lists what moved
// where, and a committed batch's receipt lists exactly what it moved, with a
// hash the audit trail holds.

type receiptBody struct {
	MigrationID string `json:"migrationId"`
	BatchID     string `json:"batchId"`
	From, To    struct {
		Platform, AccountID string
	}
	CommittedAt string `json:"committedAt"`
	Agreement   struct {
		Version, SHA256, AcceptedBy, AcceptedAt string
	} `json:"agreement"`
	Items      []json.RawMessage `json:"items"`
	Total      int               `json:"total"`
	SHA256     string            `json:"sha256"`
	NextCursor string            `json:"nextCursor"`
}

func receiptCall(b migration.Batch, query map[string]string) call {
	c := asAlice("GET /v1/migrations/{migrationId}/batches/{batchId}/receipt", "/v1/migrations/"+b.MigrationID+"/batches/"+b.BatchID+"/receipt",
		"", "", "migrationId", b.MigrationID, "batchId", b.BatchID)
	c.query = query
	return c
}

func TestReceiptListsWhatMovedWithTheAuditedHash(t *testing.T) {
	e := newEnv(t, aliceApps(3).build(t))
	api, _ := e.api(t)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})

	// Before the commit there is no receipt.
	res := receiptCall(b, nil).do(t, api)
	require.Equal(t, http.StatusConflict, res.StatusCode, res.Body)
	assert.Equal(t, "WRONG_STEP", errCode(t, res))

	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	e.moveAll(t, b)

	// Paged by 4: three pages, one hash, and together exactly what moved.
	var lines []string
	var sum string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		q := map[string]string{"limit": "4"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		res := receiptCall(b, q).do(t, api)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var rb receiptBody
		require.NoError(t, json.Unmarshal([]byte(res.Body), &rb))
		assert.Equal(t, 9, rb.Total)
		assert.Equal(t, "microapp", rb.From.Platform)
		assert.Equal(t, "ma-1", rb.From.AccountID)
		assert.Equal(t, "developer", rb.To.Platform)
		assert.Equal(t, b.ResolveTargetAccountID(), rb.To.AccountID)
		assert.NotEmpty(t, rb.CommittedAt)
		assert.NotEmpty(t, rb.Agreement.SHA256)
		assert.NotEmpty(t, rb.Agreement.AcceptedAt)
		if sum != "" {
			assert.Equal(t, sum, rb.SHA256, "every page carries the whole list's hash")
		}
		sum = rb.SHA256
		for _, it := range rb.Items {
			lines = append(lines, string(it)+"\n")
		}
		if cursor = rb.NextCursor; cursor == "" {
			break
		}
	}
	require.Len(t, lines, 9)
	// Anyone can recompute the hash from the list: its JSON Lines, as served
	// (each item's keys sorted).
	h := sha256.Sum256([]byte(strings.Join(lines, "")))
	assert.Equal(t, hex.EncodeToString(h[:]), sum)
	var ids []string
	for _, l := range lines {
		var it migration.ReceiptItem
		require.NoError(t, json.Unmarshal([]byte(l), &it))
		ids = append(ids, string(it.Type)+":"+it.ID)
	}
	assert.ElementsMatch(t, []string{"app:app-0", "app:app-1", "app:app-2", "data:ds-app-0", "data:ds-app-1", "data:ds-app-2",
		"order:ord-app-0", "order:ord-app-1", "order:ord-app-2"}, ids)

	// The audit trail holds the same hash, once however often it is read.
	issued := auditEvents(t, e, alice, migration.EventReceiptIssued)
	require.Len(t, issued, 1)
	assert.Equal(t, sum, issued[0].Detail["sha256"])

	// CSV: the same items, a header row, the hash in a header.
	c := receiptCall(b, nil)
	c.headers = map[string]string{"Accept": "text/csv"}
	res = c.do(t, api)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Equal(t, "text/csv; charset=utf-8", res.Headers["content-type"])
	assert.Equal(t, sum, res.Headers["x-receipt-sha256"])
	assert.Equal(t, "no-store", res.Headers["cache-control"])
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 10)
	assert.Equal(t, []string{"type", "id", "assetId", "kind", "name", "role"}, rows[0])

	// Someone else's batch is not found; a forged cursor is bad input.
	other := receiptCall(b, nil)
	other.claims = map[string]string{"sub": "ma-2", "platform": "microapp", "login": "bob@example.com", "scope": "migration:developer"}
	res = other.do(t, api)
	assert.Equal(t, http.StatusNotFound, res.StatusCode, res.Body)
	res = receiptCall(b, map[string]string{"cursor": "bm9wZQ"}).do(t, api)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, res.Body)
}

type historyBody struct {
	Migrations []struct {
		MigrationID string `json:"migrationId"`
		State       string `json:"state"`
		CreatedAt   string `json:"createdAt"`
		Batches     []struct {
			BatchKey, State, TargetAccountID string
		} `json:"batches"`
	} `json:"migrations"`
	NextCursor string `json:"nextCursor"`
}

func TestHistoryListsMigrationsNewestFirst(t *testing.T) {
	e := newEnv(t, aliceApps(2).subject("subj-b", migration.SubjectCompany).
		miniprograms("microapp", "ma-1", "subj-b", "b", 1).build(t))
	api, _ := e.api(t)
	history := func(q map[string]string) (int, historyBody) {
		c := asAlice("GET /v1/migrations", "/v1/migrations", "", "")
		c.query = q
		res := c.do(t, api)
		var out historyBody
		if res.StatusCode == http.StatusOK {
			require.NoError(t, json.Unmarshal([]byte(res.Body), &out))
		}
		return res.StatusCode, out
	}
	status, h := history(nil)
	require.Equal(t, http.StatusOK, status)
	assert.Empty(t, h.Migrations, "no migration yet")

	// The first migration moves subj-a and ends; the second moves subj-b.
	first := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	_, err := e.m.Confirm(e.ctx, alice, first.MigrationID, first.BatchID)
	require.NoError(t, err)
	e.moveAll(t, first)
	_, err = e.m.Summarize(e.ctx, first.MigrationID)
	require.NoError(t, err)
	second := e.readyBatch(t, alice, "subj-b/developer", migration.Target{Mode: migration.TargetModeNew})

	status, h = history(nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, h.Migrations, 2)
	assert.Equal(t, second.MigrationID, h.Migrations[0].MigrationID, "newest first")
	assert.Equal(t, "AWAITING_CONFIRMATION", h.Migrations[0].Batches[0].State)
	assert.Equal(t, first.MigrationID, h.Migrations[1].MigrationID)
	assert.Equal(t, "COMPLETED", h.Migrations[1].State)
	assert.Equal(t, "COMMITTED", h.Migrations[1].Batches[0].State)
	assert.Equal(t, first.ResolveTargetAccountID(), h.Migrations[1].Batches[0].TargetAccountID, "what moved where")

	// One a page: the cursor leads to the older one, then ends.
	status, p1 := history(map[string]string{"limit": "1"})
	require.Equal(t, http.StatusOK, status)
	require.Len(t, p1.Migrations, 1)
	require.NotEmpty(t, p1.NextCursor)
	status, p2 := history(map[string]string{"limit": "1", "cursor": p1.NextCursor})
	require.Equal(t, http.StatusOK, status)
	require.Len(t, p2.Migrations, 1)
	assert.Equal(t, first.MigrationID, p2.Migrations[0].MigrationID)

	status, _ = history(map[string]string{"limit": "51"})
	assert.Equal(t, http.StatusBadRequest, status)
}
