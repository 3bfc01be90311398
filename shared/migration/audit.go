package migration

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
