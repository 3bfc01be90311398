package migration

// Identity is a certified identity of an account (developer, service provider, ...).
type Identity struct {
	ID        string         `json:"id" dynamodbav:"id"`
	Platform  SourcePlatform `json:"platform" dynamodbav:"platform"`
	AccountID string         `json:"accountId" dynamodbav:"accountId"`
	Kind      IdentityKind   `json:"kind" dynamodbav:"kind"`
	SubjectID string         `json:"subjectId" dynamodbav:"subjectId"`
	Certified bool           `json:"certified" dynamodbav:"certified"`
}
