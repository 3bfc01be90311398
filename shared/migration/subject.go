package migration

// Subject is a certified legal entity (主体).
type Subject struct {
	ID        string      `json:"id" dynamodbav:"id"`
	Name      string      `json:"name" dynamodbav:"name"`
	Kind      SubjectKind `json:"kind" dynamodbav:"kind"`
	Certified bool        `json:"certified" dynamodbav:"certified"`
}
