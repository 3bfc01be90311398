package migration

import "fmt"

// TargetAccount is an account on a new platform.
type TargetAccount struct {
	Platform   TargetPlatform `json:"platform" dynamodbav:"platform"`
	ID         string         `json:"id" dynamodbav:"id"`
	Login      string         `json:"login" dynamodbav:"login"`
	Onboarding Onboarding     `json:"onboarding" dynamodbav:"onboarding"`
	SubjectID  string         `json:"subjectId,omitempty" dynamodbav:"subjectId,omitempty"`
	// MiniPrograms it already holds on the new platform: they count against
	// its subject's quota (docs/CONTRACT.md §4).
	MiniPrograms int `json:"miniprograms,omitempty" dynamodbav:"miniprograms,omitempty"`
}

// TargetChange says why an imported target account may not take the place
// of the one the table holds; "" when it may: only its onboarding moving
// forward (none -> applied -> completed) and its mini-programs may change
// (docs/CONTRACT.md §4). The subject the service bound it to stays.
func TargetChange(cur, next TargetAccount) string {
	switch {
	case cur.Login != next.Login:
		return fmt.Sprintf("exists with login %q: only onboarding and miniprograms may change", cur.Login)
	case next.SubjectID != "" && next.SubjectID != cur.SubjectID:
		return fmt.Sprintf("exists bound to subject %q: only onboarding and miniprograms may change", cur.SubjectID)
	case onboardingRank(next.Onboarding) < onboardingRank(cur.Onboarding):
		return fmt.Sprintf("onboarding may only move forward (none -> applied -> completed), not %s -> %s", cur.Onboarding, next.Onboarding)
	}
	return ""
}

func onboardingRank(o Onboarding) int {
	switch o {
	case OnboardingApplied:
		return 1
	case OnboardingCompleted:
		return 2
	}
	return 0
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
