package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"

	"github.com/devplatform/account-migration/shared/migration"
)

// The developer's record: GET /v1/migrations and a committed batch's receipt.

func (a *API) history(ctx context.Context, r *request) (int, any, error) {
	limit, err := historyLimit(r)
	if err != nil {
		return 0, nil, err
	}
	h, err := a.Migrator.History(ctx, r.caller, r.ev.QueryStringParameters["cursor"], limit)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Migrations []migrationView `json:"migrations"`
		NextCursor string          `json:"nextCursor,omitempty"`
	}{Migrations: make([]migrationView, 0, len(h.Migrations)), NextCursor: h.NextCursor}
	for _, e := range h.Migrations {
		out.Migrations = append(out.Migrations, a.viewMigration(e.Migration, e.Batches))
	}
	return http.StatusOK, out, nil
}

// historyLimit is limitParam with the history's own bounds: each migration
// listed costs a read of its batches.
func historyLimit(r *request) (int, error) {
	if r.ev.QueryStringParameters["limit"] == "" {
		return 20, nil
	}
	n, err := limitParam(r)
	if err != nil || n > 50 {
		return 0, migration.Errorf(migration.CodeInvalidInput, "limit must be 1-50")
	}
	return n, nil
}

type accountRefView struct {
	Platform  string `json:"platform"`
	AccountID string `json:"accountId"`
}

type receiptAgreement struct {
	Version    string `json:"version"`
	SHA256     string `json:"sha256"`
	Lang       string `json:"lang,omitempty"`
	AcceptedBy string `json:"acceptedBy"`
	AcceptedAt string `json:"acceptedAt"`
	Channel    string `json:"channel,omitempty"`
}

type receiptView struct {
	MigrationID string                  `json:"migrationId"`
	BatchID     string                  `json:"batchId"`
	BatchKey    string                  `json:"batchKey"`
	From        accountRefView          `json:"from"`
	To          accountRefView          `json:"to"`
	CommittedAt string                  `json:"committedAt"`
	Agreement   *receiptAgreement       `json:"agreement"`
	Items       []migration.ReceiptItem `json:"items"`
	Total       int                     `json:"total"`
	SHA256      string                  `json:"sha256"`
	NextCursor  string                  `json:"nextCursor,omitempty"`
}

// receiptCSVColumns are the CSV receipt's columns, ReceiptItem's fields.
var receiptCSVColumns = []string{"type", "id", "assetId", "kind", "name", "role"}

func (a *API) receipt(ctx context.Context, r *request) (int, any, error) {
	asCSV := wantsCSV(r)
	limit, err := limitParam(r)
	if err != nil {
		return 0, nil, err
	}
	cursor := r.ev.QueryStringParameters["cursor"]
	if asCSV {
		limit, cursor = 0, "" // the CSV is the whole list
	}
	rc, err := a.Migrator.Receipt(ctx, r.caller, r.param("migrationId"), r.param("batchId"), cursor, limit)
	if err != nil {
		return 0, nil, err
	}
	b := rc.Batch
	if asCSV {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(receiptCSVColumns)
		for _, it := range rc.Items {
			_ = w.Write([]string{string(it.Type), it.ID, it.AssetID, it.Kind, csvSafe(it.Name), string(it.Role)})
		}
		w.Flush()
		return http.StatusOK, rawReply{contentType: "text/csv; charset=utf-8", body: buf.Bytes(), private: true, headers: map[string]string{
			"content-disposition": `attachment; filename="receipt-` + b.BatchID + `.csv"`,
			"x-receipt-sha256":    rc.SHA256,
		}}, nil
	}
	out := receiptView{MigrationID: b.MigrationID, BatchID: b.BatchID, BatchKey: b.BatchKey,
		From:        accountRefView{Platform: b.Source.Platform, AccountID: b.Source.ID},
		To:          accountRefView{Platform: string(b.TargetPlatform), AccountID: b.TargetAccountID},
		CommittedAt: b.UpdatedAt, Items: rc.Items, Total: rc.Total, SHA256: rc.SHA256, NextCursor: rc.NextCursor}
	if out.Items == nil {
		out.Items = []migration.ReceiptItem{}
	}
	if ag := b.Agreement; ag != nil {
		out.Agreement = &receiptAgreement{Version: ag.Version, SHA256: ag.SHA256, Lang: ag.Lang, AcceptedBy: ag.AcceptedBy, AcceptedAt: ag.AcceptedAt, Channel: ag.Channel}
	}
	return http.StatusOK, out, nil
}

// wantsCSV: Accept names text/csv (before any JSON), or ?format=csv for a
// plain download link.
func wantsCSV(r *request) bool {
	if r.ev.QueryStringParameters["format"] == "csv" {
		return true
	}
	accept := strings.ToLower(header(r.ev, "accept"))
	i := strings.Index(accept, "text/csv")
	j := strings.Index(accept, "application/json")
	return i >= 0 && (j < 0 || i < j)
}

// csvSafe keeps a spreadsheet from reading a name as a formula (CSV
// injection): a cell that starts with = + - @ gets a leading apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
