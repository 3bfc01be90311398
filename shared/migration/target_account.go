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
