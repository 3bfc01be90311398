package dynamostore

import (
	"github.com/devplatform/account-migration/shared/migration"
)

// Store is the DynamoDB adapter of migration.Store: one type per role of the
// domain's ports, and for the adapter's own parts (idempotency keys, ops
// listings, snapshot import), each in the files named for it, all on one
// table and the audit table. A caller that needs one role takes that role
// alone (store.Idempotency, store.OpsReads, ...). Each method has one home:
// no two roles have a method of the same name.
type Store struct {
	*Holdings         // holdings.go
	*MigrationRecords // migration_records.go, migration_claims.go
	*BatchSteps       // batch_steps.go
	*Commits          // commits.go, commits_held.go, commits_move.go
	*Reminders        // reminders.go
	*Audit            // audit.go, audit_retention.go
	*Idempotency      // idempotency.go
	*OpsReads         // ops_reads.go
	*SnapshotImport   // snapshot_import*.go

	base *base // what the roles share (base.go)
}

var _ migration.Store = (*Store)(nil)

// New returns a store on table, with the audit trail in the same table until
// WithAuditTable names its own (as the deployed functions do).
func New(client API, table string) *Store {
	return newStore(&base{db: client, table: table, audit: table})
}

// newStore builds the roles on b, each given the others it reads through.
func newStore(b *base) *Store {
	records, holdings := &MigrationRecords{b}, &Holdings{b}
	steps := &BatchSteps{base: b, records: records}
	return &Store{
		Holdings:         holdings,
		MigrationRecords: records,
		BatchSteps:       steps,
		Commits:          &Commits{base: b, records: records, targets: holdings, steps: steps},
		Reminders:        &Reminders{b},
		Audit:            &Audit{b},
		Idempotency:      &Idempotency{b},
		OpsReads:         &OpsReads{b},
		SnapshotImport:   &SnapshotImport{base: b, records: records},
		base:             b,
	}
}

// WithAuditTable puts the audit trail in a table of its own, where the
// functions may only add records (template.yaml's AuditTable); "" keeps it.
func (s *Store) WithAuditTable(name string) *Store {
	b := *s.base
	if name != "" {
		b.audit = name
	}
	return newStore(&b)
}

// Table is the table's name.
func (s *Store) Table() string { return s.base.table }

// AuditTable is the audit trail's table.
func (s *Store) AuditTable() string { return s.base.audit }
