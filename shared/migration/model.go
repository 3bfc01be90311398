package migration

import "time"

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

// BatchError is why a batch FAILED.
type BatchError struct {
	Code    Code   `json:"code" dynamodbav:"code"`
	Message string `json:"message" dynamodbav:"message"`
}

// Batch is the unit of migration: the assets of one source account under one
// subject going to one target platform, landing in exactly one target account.
type Batch struct {
	MigrationID     string         `json:"migrationId" dynamodbav:"migrationId"`
	BatchID         string         `json:"batchId" dynamodbav:"batchId"`
	BatchKey        string         `json:"batchKey" dynamodbav:"batchKey"`
	SubjectID       string         `json:"subjectId" dynamodbav:"subjectId"`
	SubjectKind     SubjectKind    `json:"subjectKind,omitempty" dynamodbav:"subjectKind,omitempty"`
	TargetPlatform  TargetPlatform `json:"targetPlatform" dynamodbav:"targetPlatform"`
	Source          AccountRef     `json:"source" dynamodbav:"source"`
	Login           string         `json:"-" dynamodbav:"login"`
	State           BatchState     `json:"state" dynamodbav:"state"`
	Counts          Counts         `json:"counts" dynamodbav:"counts"`
	Total           int            `json:"total" dynamodbav:"total"`
	Moved           int            `json:"moved" dynamodbav:"moved"`
	MiniPrograms    int            `json:"miniPrograms" dynamodbav:"miniPrograms"`
	Agreement       *Acceptance    `json:"agreement,omitempty" dynamodbav:"agreement,omitempty"`
	Target          *Target        `json:"target,omitempty" dynamodbav:"target,omitempty"`
	TargetAccountID string         `json:"targetAccountId,omitempty" dynamodbav:"targetAccountId,omitempty"`
	Error           *BatchError    `json:"error,omitempty" dynamodbav:"error,omitempty"`
	CreatedAt       string         `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt       string         `json:"updatedAt" dynamodbav:"updatedAt"`
	CommitDeadline  string         `json:"commitDeadline,omitempty" dynamodbav:"commitDeadline,omitempty"`
	// ExpiresAt is the batch's one deadline for all its waits on the developer
	// (rule 13): CreatedAt plus the pending timeout. Stored under another name:
	// the table's TTL attribute is called expiresAt.
	ExpiresAt string `json:"expiresAt,omitempty" dynamodbav:"waitDeadline,omitempty"`
	// Task tokens of the workflow's parked waits, one per step. Never shown.
	Tokens map[Step]string `json:"-" dynamodbav:"-"`
	// LastRefusal is why the point of no return last sent the batch back to
	// AWAITING_TARGET (its target was taken): nothing moved, choose again.
	LastRefusal *BatchError `json:"lastRefusal,omitempty" dynamodbav:"lastRefusal,omitempty"`
	// Probe is the item keys ("<type>#<id>") the point of no return reads
	// again: all its mini-programs and a few others (PlannedBatch.Probe).
	Probe []string `json:"-" dynamodbav:"probe,omitempty"`
	// LateArrivals counts records that arrived for assets this batch had
	// already moved: they followed them to its target account.
	LateArrivals int `json:"lateArrivals,omitempty" dynamodbav:"lateArrivals,omitempty"`
	// Left is how many items the move has still to move, kept from the point
	// of no return (nil on batches that passed it before it was kept): the
	// closing applies only when it reaches zero, so a record that joined the
	// batch during its move is never left behind.
	Left *int `json:"-" dynamodbav:"left,omitempty"`
	// Joined lists the apps, services, identities and relations
	// ("<type>#<id>") imported into the batch while it waited, and Joins
	// counts every record that joined: the point of no return reads the
	// listed ones by key whatever the index says, and reads again when Joins
	// changed under it.
	Joined []string `json:"-" dynamodbav:"joined,stringset,omitempty"`
	Joins  int      `json:"-" dynamodbav:"joins,omitempty"`
	// ReceiptSHA256 is the hash of the receipt last recorded in the audit
	// trail (EventReceiptIssued), once the batch is COMMITTED.
	ReceiptSHA256 string `json:"-" dynamodbav:"receiptSha256,omitempty"`
	// Reminded are the BatchExpiring reminders sent for the batch's deadline.
	Reminded []string `json:"-" dynamodbav:"reminded,stringset,omitempty"`
}

// SourceHolder is the holder string of the batch's old-platform account.
func (b Batch) SourceHolder() string {
	return SourceHolder(SourcePlatform(b.Source.Platform), b.Source.ID)
}

// TargetHolder is the holder string of the batch's chosen target account.
func (b Batch) TargetHolder() string { return TargetHolder(b.TargetPlatform, b.TargetAccountID) }

// Deadline is when the batch expires if it has not passed the point of no
// return; batches written before the deadline was stored count from CreatedAt.
func (b Batch) Deadline(pending time.Duration) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, b.ExpiresAt); err == nil {
		return t
	}
	created, _ := time.Parse(time.RFC3339Nano, b.CreatedAt)
	return created.Add(pending)
}

// ResolveTargetAccountID is the account the batch lands in once its target is chosen.
func (b Batch) ResolveTargetAccountID() string {
	if b.Target == nil {
		return ""
	}
	if b.Target.Mode == TargetModeNew {
		return NewTargetAccountID(b.TargetPlatform, b.BatchID)
	}
	return b.Target.AccountID
}

// AuditEvent is one append-only record (rule 14). It outlives the workflow's
// own history.
type AuditEvent struct {
	At          string         `json:"at" dynamodbav:"at"`
	Event       string         `json:"event" dynamodbav:"event"`
	Account     string         `json:"account" dynamodbav:"account"`
	MigrationID string         `json:"migrationId,omitempty" dynamodbav:"migrationId,omitempty"`
	BatchID     string         `json:"batchId,omitempty" dynamodbav:"batchId,omitempty"`
	BatchKey    string         `json:"batchKey,omitempty" dynamodbav:"batchKey,omitempty"`
	From        BatchState     `json:"from,omitempty" dynamodbav:"from,omitempty"`
	To          BatchState     `json:"to,omitempty" dynamodbav:"to,omitempty"`
	Actor       string         `json:"actor,omitempty" dynamodbav:"actor,omitempty"`
	Agreement   *Acceptance    `json:"agreement,omitempty" dynamodbav:"agreement,omitempty"`
	Target      *Target        `json:"target,omitempty" dynamodbav:"target,omitempty"`
	Error       *BatchError    `json:"error,omitempty" dynamodbav:"error,omitempty"`
	Detail      map[string]any `json:"detail,omitempty" dynamodbav:"detail,omitempty"`
}

// Audit event names.
const (
	EventMigrationStarted  = "MIGRATION_STARTED"
	EventAgreementViewed   = "AGREEMENT_VIEWED"
	EventAgreementAccepted = "AGREEMENT_ACCEPTED"
	EventTargetSelected    = "TARGET_SELECTED"
	EventTargetRefused     = "TARGET_REFUSED" // back to AWAITING_TARGET: at the point of no return, or an ops target refused
	EventCommitStarted     = "COMMIT_STARTED" // the point of no return
	EventBatchCommitted    = "BATCH_COMMITTED"
	EventBatchFailed       = "BATCH_FAILED"
	EventBatchExpired      = "BATCH_EXPIRED"
	EventBatchStalled      = "BATCH_STALLED" // a move failed for good; the batch stays COMMITTING
	EventMigrationEnded    = "MIGRATION_ENDED"
	EventLateArrival       = "LATE_ARRIVAL" // a record of an asset the batch had moved followed it
)
