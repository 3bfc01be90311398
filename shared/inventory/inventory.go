// Package inventory is every record of the store read at once, in the
// domain's types: what the reconciliation check (shared/reconcile) judges and
// ops tools count. The DynamoDB adapter (dynamostore.ScanRecords) fills it;
// neither the adapter nor the checker imports the other.
package inventory

import "github.com/devplatform/account-migration/shared/migration"

// Records is everything one read of the store found.
type Records struct {
	Items   []migration.Item
	Batches []migration.Batch
	Audit   []migration.AuditEvent
	Quotas  []Quota
	// IndexHolders maps an item's key (migration.Item.Key) to the holder
	// its index entry (gsi1) files it under; the move finds items through
	// that index. Items missing from the map are not checked against it.
	IndexHolders map[string]string
	// Unreadable are records the reader could not decode (a wrong attribute
	// type, say): each is reported, and the rest is still checked.
	Unreadable []Unreadable
}

// Unreadable is a record that could not be decoded.
type Unreadable struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// Quota is a subject's mini-program counter on the developer platform.
type Quota struct {
	SubjectID string `json:"subjectId"`
	Used      int    `json:"used"`
	Limit     int    `json:"limit"`
}
