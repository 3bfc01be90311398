package migration

import (
	"math"
	"time"
)

// BatchState is where a batch stands. The order matters: a batch only moves
// forward, and after COMMITTING it can only become COMMITTED (rule 9).
type BatchState string

const (
	AwaitingAgreement    BatchState = "AWAITING_AGREEMENT"
	AwaitingTarget       BatchState = "AWAITING_TARGET"
	AwaitingConfirmation BatchState = "AWAITING_CONFIRMATION"
	Committing           BatchState = "COMMITTING"
	Committed            BatchState = "COMMITTED"
	Failed               BatchState = "FAILED"
	Expired              BatchState = "EXPIRED"
)

// WaitingOnDeveloper reports whether the batch waits for the developer (and so
// may expire, rule 13).
func (s BatchState) WaitingOnDeveloper() bool {
	return s == AwaitingAgreement || s == AwaitingTarget || s == AwaitingConfirmation
}

// Final reports whether nothing more will happen to the batch.
func (s BatchState) Final() bool { return s == Committed || s == Failed || s == Expired }

// PastPointOfNoReturn reports whether the batch's assets are (being) moved.
func (s BatchState) PastPointOfNoReturn() bool { return s == Committing || s == Committed }

// rank orders the happy path; FAILED and EXPIRED sit outside it.
func (s BatchState) rank() int {
	switch s {
	case AwaitingAgreement:
		return 1
	case AwaitingTarget:
		return 2
	case AwaitingConfirmation:
		return 3
	case Committing:
		return 4
	case Committed:
		return 5
	}
	return 0
}

// WaitDeadline is how long the workflow's next wait for the developer may last:
// what is left of the batch's one deadline (rule 13), in the shape the state
// machine's TimeoutSecondsPath and HeartbeatSecondsPath read. Nobody sends
// heartbeats, so the heartbeat ends the wait at the deadline; the timeout, a
// second later, is the backstop Step Functions requires to be the larger.
type WaitDeadline struct {
	TimeoutSeconds   int `json:"timeoutSeconds"`
	HeartbeatSeconds int `json:"heartbeatSeconds"`
}

// WaitDeadlineUntil is the wait deadline for a batch that expires at expiresAt.
// A deadline already past still gives a one-second wait, so the workflow
// expires the batch at once rather than failing on a zero timeout.
func WaitDeadlineUntil(expiresAt, now time.Time) WaitDeadline {
	left := int(math.Ceil(expiresAt.Sub(now).Seconds()))
	if left < 1 {
		left = 1
	}
	return WaitDeadline{TimeoutSeconds: left + 1, HeartbeatSeconds: left}
}

// Step is a developer action a batch waits for; the workflow parks one task
// token per step.
type Step string

const (
	StepAgreement    Step = "agreement"
	StepTarget       Step = "target"
	StepConfirmation Step = "confirmation"
)

// WaitState is the state in which a batch waits for the step.
func (s Step) WaitState() BatchState {
	switch s {
	case StepAgreement:
		return AwaitingAgreement
	case StepTarget:
		return AwaitingTarget
	default:
		return AwaitingConfirmation
	}
}

// Done reports whether a batch in state s is past the step (so a wait for it
// ends at once).
func (s Step) Done(state BatchState) bool { return state.rank() > s.WaitState().rank() }

// NextAction tells the developer (or ops) what the batch waits for.
func NextAction(s BatchState) string {
	switch s {
	case AwaitingAgreement:
		return "ACCEPT_AGREEMENT"
	case AwaitingTarget:
		return "SELECT_TARGET"
	case AwaitingConfirmation:
		return "CONFIRM"
	case Committing:
		return "WAIT"
	case Committed:
		return "VIEW_TARGET"
	default:
		return "START_AGAIN"
	}
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
