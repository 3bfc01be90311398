package migration

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
