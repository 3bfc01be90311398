package migration

// Account is a login on one old platform.
type Account struct {
	Platform  SourcePlatform `json:"platform" dynamodbav:"platform"`
	ID        string         `json:"id" dynamodbav:"id"`
	Login     string         `json:"login" dynamodbav:"login"`
	SubjectID string         `json:"subjectId,omitempty" dynamodbav:"subjectId,omitempty"`
}
