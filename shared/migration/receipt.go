package migration

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// EventReceiptIssued records the SHA-256 of a committed batch's receipt, so a
// receipt (or the manifest handed to the new platform) can be checked against
// the audit trail later. A receipt whose list changes (a late arrival followed
// a moved asset) is recorded again with its new hash.
const EventReceiptIssued = "RECEIPT_ISSUED"

// ReceiptItem is one thing a batch moved. Its fields are in the order of
// their JSON names (lexicographic), so the canonical form (CanonicalItems)
// is each item's JSON with its keys sorted, as JSON canonicalization (RFC
// 8785) writes it: any client can rebuild it from the parsed items.
type ReceiptItem struct {
	AssetID string   `json:"assetId,omitempty"` // members, data, orders: the app or service they belong to
	ID      string   `json:"id"`
	Kind    string   `json:"kind,omitempty"`
	Name    string   `json:"name,omitempty"`
	Role    Role     `json:"role,omitempty"` // members
	Type    ItemType `json:"type"`
}

// ReceiptOf is the receipt line of a moved item.
func ReceiptOf(it Item) ReceiptItem {
	return ReceiptItem{Type: it.Type, ID: it.ID, AssetID: it.ParentID, Kind: it.Kind, Name: it.Name, Role: it.Role}
}

// SortReceipt puts items in the receipt's canonical order: by type, then id.
func SortReceipt(items []ReceiptItem) {
	slices.SortFunc(items, func(a, b ReceiptItem) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
}

// CanonicalItems is the receipt's list as JSON Lines: each item as compact
// JSON with its keys sorted (empty fields left out, no HTML escaping), one per
// line ending in "\n", in canonical order (SortReceipt). These bytes
// are the manifest object the new platforms read, and ReceiptSHA256 is their
// SHA-256: anyone holding the list can recompute it.
func CanonicalItems(items []ReceiptItem) []byte {
	sorted := slices.Clone(items)
	SortReceipt(sorted)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode ends each value with "\n"
	enc.SetEscapeHTML(false)
	for _, it := range sorted {
		_ = enc.Encode(it) // a struct of strings cannot fail to encode
	}
	return buf.Bytes()
}

// ReceiptSHA256 is the hex SHA-256 of CanonicalItems(items).
func ReceiptSHA256(items []ReceiptItem) string {
	sum := sha256.Sum256(CanonicalItems(items))
	return hex.EncodeToString(sum[:])
}

// Receipt is the record a developer keeps of one committed batch.
type Receipt struct {
	Batch Batch
	// Items is the requested page of the canonical list; SHA256 covers the
	// whole list, whatever the page.
	Items      []ReceiptItem
	Total      int
	SHA256     string
	NextCursor string
}

// ReceiptItems reads everything the committed batch moved, in canonical order.
func (s *Reads) ReceiptItems(ctx context.Context, b Batch) ([]ReceiptItem, error) {
	if b.State != Committed {
		return nil, Errorf(CodeWrongStep, "batch %s is %s: a receipt exists once it is COMMITTED", b.BatchID, b.State)
	}
	moved, err := collect(ctx, func(c string) ([]Item, string, error) {
		return s.Store.MovedItems(ctx, b.TargetHolder(), b.BatchKey, b.BatchID, c, 1000)
	})
	if err != nil {
		return nil, err
	}
	items := make([]ReceiptItem, 0, len(moved))
	for _, it := range moved {
		items = append(items, ReceiptOf(it))
	}
	SortReceipt(items)
	return items, nil
}

// IssueReceipt reads the committed batch's list, hashes it and makes sure the
// audit trail holds that hash (written once per distinct hash: safe to call
// again, from the workflow that hands the manifest over and from the
// developer's download alike).
func (s *Reads) IssueReceipt(ctx context.Context, b Batch, actor string) ([]ReceiptItem, string, error) {
	items, err := s.ReceiptItems(ctx, b)
	if err != nil {
		return nil, "", err
	}
	sum := ReceiptSHA256(items)
	if b.ReceiptSHA256 == sum {
		return items, sum, nil
	}
	ev := AuditEvent{At: s.stamp(), Event: EventReceiptIssued, Account: b.Source.String(), MigrationID: b.MigrationID,
		BatchID: b.BatchID, BatchKey: b.BatchKey, Actor: actor, Detail: map[string]any{"sha256": sum, "items": len(items)}}
	if err := s.Store.RecordReceipt(ctx, b, sum, ev); err != nil {
		return nil, "", err
	}
	return items, sum, nil
}

// Receipt is one page of the caller's receipt for a committed batch
// (CodeWrongStep before COMMITTED, CodeNotFound for another's batch).
func (s *Reads) Receipt(ctx context.Context, src AccountRef, migrationID, batchID, cursor string, limit int) (Receipt, error) {
	offset, err := decodeOffset(cursor)
	if err != nil {
		return Receipt{}, err
	}
	b, err := s.OwnBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Receipt{}, err
	}
	items, sum, err := s.IssueReceipt(ctx, b, "developer:"+src.String())
	if err != nil {
		return Receipt{}, err
	}
	r := Receipt{Batch: b, Total: len(items), SHA256: sum}
	if offset > len(items) {
		offset = len(items)
	}
	end := len(items)
	if limit > 0 && offset+limit < end {
		end = offset + limit
	}
	r.Items = items[offset:end]
	if end < len(items) {
		r.NextCursor = encodeOffset(end)
	}
	return r, nil
}
