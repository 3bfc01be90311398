package migration

// Migration is one run of the migration for one old-platform account. Its
// id is also the name of the Step Functions execution that drives it.
type Migration struct {
	MigrationID  string           `json:"migrationId" dynamodbav:"migrationId"`
	Source       AccountRef       `json:"source" dynamodbav:"source"`
	Login        string           `json:"login" dynamodbav:"login"`
	RequestedBy  string           `json:"requestedBy" dynamodbav:"requestedBy"`
	Eligible     bool             `json:"eligible" dynamodbav:"eligible"`
	BatchKeys    []string         `json:"batchKeys,omitempty" dynamodbav:"batchKeys,omitempty"`
	BatchIDs     []string         `json:"batchIds,omitempty" dynamodbav:"batchIds,omitempty"`
	ExecutionArn string           `json:"executionArn,omitempty" dynamodbav:"executionArn,omitempty"`
	Ops          *OpsInstructions `json:"ops,omitempty" dynamodbav:"ops,omitempty"`
	CreatedAt    string           `json:"createdAt" dynamodbav:"createdAt"`
	Summarized   bool             `json:"-" dynamodbav:"summarized,omitempty"`
	// StartsExecution marks a migration whose creator (POST /v1/migrations)
	// starts its execution after writing it: until ExecutionArn is set, no
	// batch step may run (Migrator.drivenBatch).
	StartsExecution bool `json:"-" dynamodbav:"startsExecution,omitempty"`
}

// OpsInstructions are what ops pre-recorded in the execution input
// (docs/CONTRACT.md §3): each skips the matching wait for the developer.
type OpsInstructions struct {
	Agreement *OpsAgreement     `json:"agreement,omitempty" dynamodbav:"agreement,omitempty"`
	Targets   map[string]Target `json:"targets,omitempty" dynamodbav:"targets,omitempty"`
	Confirm   bool              `json:"confirm,omitempty" dynamodbav:"confirm,omitempty"`
}

// OpsAgreement is an agreement accepted outside the HTTP API, with evidence.
type OpsAgreement struct {
	Version    string `json:"version" dynamodbav:"version"`
	AcceptedBy string `json:"acceptedBy" dynamodbav:"acceptedBy"`
	Evidence   string `json:"evidence" dynamodbav:"evidence"`
	// SHA256 is the hash of Version's text, taken when the input was checked
	// against the agreement in force; ops cannot set it (json "-").
	SHA256 string `json:"-" dynamodbav:"sha256,omitempty"`
}

// MigrationState is derived from the batches, never stored apart from them, so
// it cannot disagree with them: COMPLETED once no batch waits or moves.
type MigrationState string

const (
	MigrationInProgress        MigrationState = "IN_PROGRESS"
	MigrationCompleted         MigrationState = "COMPLETED"
	MigrationNoMigrationNeeded MigrationState = "NO_MIGRATION_NEEDED"
	MigrationFailed            MigrationState = "FAILED"
)

// DeriveMigrationState folds batch states into the migration's state.
func DeriveMigrationState(eligible bool, states []BatchState) MigrationState {
	if !eligible {
		return MigrationNoMigrationNeeded
	}
	for _, s := range states {
		if !s.Final() {
			return MigrationInProgress
		}
	}
	return MigrationCompleted
}
