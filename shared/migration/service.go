package migration

// Service is a service (or third-party / on-behalf development service).
type Service struct {
	ID             string         `json:"id" dynamodbav:"id"`
	Platform       SourcePlatform `json:"platform" dynamodbav:"platform"`
	Name           string         `json:"name" dynamodbav:"name"`
	OwnerAccountID string         `json:"ownerAccountId" dynamodbav:"ownerAccountId"`
	SubjectID      string         `json:"subjectId" dynamodbav:"subjectId"`
	Certified      bool           `json:"certified" dynamodbav:"certified"`
}
