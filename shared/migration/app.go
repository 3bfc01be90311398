package migration

// App is a mini-program, mobile app or web app; its creator is its super admin.
type App struct {
	ID               string         `json:"id" dynamodbav:"id"`
	Platform         SourcePlatform `json:"platform" dynamodbav:"platform"`
	Kind             AppKind        `json:"kind" dynamodbav:"kind"`
	Name             string         `json:"name" dynamodbav:"name"`
	CreatorAccountID string         `json:"creatorAccountId" dynamodbav:"creatorAccountId"`
	SubjectID        string         `json:"subjectId" dynamodbav:"subjectId"`
	Certified        bool           `json:"certified" dynamodbav:"certified"`
}
