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

// Target is the developer's choice of target account for a batch (rule 8).
type Target struct {
	Mode      string `json:"mode" dynamodbav:"mode"`
	AccountID string `json:"accountId,omitempty" dynamodbav:"accountId,omitempty"`
}

const (
	TargetModeExisting = "existing"
	TargetModeNew      = "new"
)

// Validate checks the shape of a target choice.
func (t Target) Validate() error {
	switch t.Mode {
	case TargetModeNew:
		if t.AccountID != "" {
			return Errorf(CodeInvalidInput, "mode \"new\" takes no accountId")
		}
	case TargetModeExisting:
		if !ValidID(t.AccountID) {
			return Errorf(CodeInvalidInput, "mode \"existing\" needs a valid accountId")
		}
	default:
		return Errorf(CodeInvalidInput, "mode must be \"existing\" or \"new\"")
	}
	return nil
}

// NewTargetAccountID is the id of the account created for a batch that chose
// mode "new". It is derived from the batch so a retried commit creates it once.
func NewTargetAccountID(p TargetPlatform, batchID string) string {
	prefix := "dev"
	if p == TargetPartner {
		prefix = "par"
	}
	return prefix + "-" + batchID
}

// CheckTarget says whether an existing target account may receive a batch: it
// must be on the batch's platform, registered by the caller's login, onboarding
// applied or completed (rule 8), and hold no other subject (rule 3). The store
// enforces the subject binding again, as a condition, at the point of no return.
func CheckTarget(t TargetAccount, login string, p TargetPlatform, subjectID string) error {
	switch {
	case t.Platform != p:
		return Errorf(CodeTargetNotEligible, "account %s is not on the %s platform", t.ID, p)
	case t.Login != login:
		return Errorf(CodeTargetNotEligible, "account %s is not registered with your login", t.ID)
	case t.Onboarding != OnboardingApplied && t.Onboarding != OnboardingCompleted:
		return Errorf(CodeTargetNotEligible, "account %s has not applied for onboarding", t.ID)
	case t.SubjectID != "" && t.SubjectID != subjectID:
		return Errorf(CodeTargetNotEligible, "account %s already holds another subject", t.ID)
	}
	return nil
}

// MiniProgramQuota is how many mini-programs one subject may hold on the
// developer platform (rule 12): 10 for a company, 5 otherwise.
func MiniProgramQuota(k SubjectKind) int {
	if k == SubjectCompany {
		return 10
	}
	return 5
}

// ValidID accepts the ids the API and the snapshot use: 1-128 printable ASCII
// characters without path separators or spaces, so an id can never escape a
// key or a URL segment.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '@' || c == '+':
		default:
			return false
		}
	}
	return true
}
