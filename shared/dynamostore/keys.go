// Package dynamostore keeps the migration's state in one DynamoDB table and
// enforces the one-way rules with conditional writes and transactions.
package dynamostore

import (
	"strings"

	"github.com/devplatform/account-migration/shared/migration"
)

// Key layout of the single table. Each helper builds one kind of key, so the
// layout is readable in one place.
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	attrGSI2PK = "gsi2pk"
	attrGSI2SK = "gsi2sk"
	indexHeld  = "gsi1" // what a holder holds, by batch key
	indexGSI2  = "gsi2" // followers, target accounts by login, batches by state
	metaSK     = "#"
	skippedKey = "~skipped" // sorts after every batch key
)

func itemPK(t migration.ItemType, id string) string { return "ITEM#" + string(t) + "#" + id }
func holdPK(holder string) string                   { return "HOLD#" + holder }
func followPK(holder string) string                 { return "FOLLOW#" + holder }
func accountPK(r migration.AccountRef) string       { return "ACCOUNT#" + r.Platform + "#" + r.ID }
func subjectPK(id string) string                    { return "SUBJECT#" + id }
func targetPK(p migration.TargetPlatform, id string) string {
	return "TARGET#" + string(p) + "#" + id
}
func loginPK(p migration.TargetPlatform, login string) string {
	return "LOGIN#" + string(p) + "#" + strings.ToLower(login)
}
func quotaPK(subjectID string) string            { return "QUOTA#" + subjectID }
func activePK(r migration.AccountRef) string     { return "ACTIVE#" + r.String() }
func migrationPK(id string) string               { return "MIGRATION#" + id }
func migrationsPK(r migration.AccountRef) string { return "MIGRATIONS#" + r.String() }
func batchSK(id string) string                   { return "BATCH#" + id }
func batchStatePK(s migration.BatchState) string { return "BATCHSTATE#" + string(s) }
func viewPK(r migration.AccountRef) string       { return "VIEW#" + r.String() }
func auditPK(account string) string              { return "AUDIT#" + account }

const quotaSK = "developer#miniprogram"

// heldSK orders a holder's items by batch, then type and id.
func heldSK(it migration.Item) string {
	bk := it.BatchKey
	if bk == "" {
		bk = skippedKey
	}
	return bk + "#" + string(it.Type) + "#" + it.ID
}

func batchPrefix(batchKey string) string {
	if batchKey == "" {
		return ""
	}
	return batchKey + "#"
}
