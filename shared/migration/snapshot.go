package migration

// Snapshot is the old-platform data to migrate (docs/CONTRACT.md §4). It is loaded
// whole or not at all: ParseSnapshot validates every record before anything is
// written.
type Snapshot struct {
	Version        int             `json:"version"`
	Subjects       []Subject       `json:"subjects"`
	Accounts       []Account       `json:"accounts"`
	Identities     []Identity      `json:"identities"`
	Apps           []App           `json:"apps"`
	Services       []Service       `json:"services"`
	Members        []Member        `json:"members"`
	Data           []DataSet       `json:"data"`
	Orders         []Order         `json:"orders"`
	TargetAccounts []TargetAccount `json:"targetAccounts"`
}

// The old platforms' records, one type per kind. Their JSON names are the
// snapshot's and the import's (docs/CONTRACT.md §4); the store keeps them under
// the same names.

// Subject is a certified legal entity (主体).
type Subject struct {
	ID        string      `json:"id" dynamodbav:"id"`
	Name      string      `json:"name" dynamodbav:"name"`
	Kind      SubjectKind `json:"kind" dynamodbav:"kind"`
	Certified bool        `json:"certified" dynamodbav:"certified"`
}

// Account is a login on one old platform.
type Account struct {
	Platform  SourcePlatform `json:"platform" dynamodbav:"platform"`
	ID        string         `json:"id" dynamodbav:"id"`
	Login     string         `json:"login" dynamodbav:"login"`
	SubjectID string         `json:"subjectId,omitempty" dynamodbav:"subjectId,omitempty"`
}

// Identity is a certified identity of an account (developer, service provider, ...).
type Identity struct {
	ID        string         `json:"id" dynamodbav:"id"`
	Platform  SourcePlatform `json:"platform" dynamodbav:"platform"`
	AccountID string         `json:"accountId" dynamodbav:"accountId"`
	Kind      IdentityKind   `json:"kind" dynamodbav:"kind"`
	SubjectID string         `json:"subjectId" dynamodbav:"subjectId"`
	Certified bool           `json:"certified" dynamodbav:"certified"`
}

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

// Service is a service (or third-party / on-behalf development service).
type Service struct {
	ID             string         `json:"id" dynamodbav:"id"`
	Platform       SourcePlatform `json:"platform" dynamodbav:"platform"`
	Name           string         `json:"name" dynamodbav:"name"`
	OwnerAccountID string         `json:"ownerAccountId" dynamodbav:"ownerAccountId"`
	SubjectID      string         `json:"subjectId" dynamodbav:"subjectId"`
	Certified      bool           `json:"certified" dynamodbav:"certified"`
}

// Member is a collaboration relation: accountId is admin or collaborator of assetId.
type Member struct {
	AssetID   string `json:"assetId" dynamodbav:"assetId"`
	AccountID string `json:"accountId" dynamodbav:"accountId"`
	Role      Role   `json:"role" dynamodbav:"role"`
}

// DataSet is a data set (analytics, ...) of an app or service; it follows its asset.
type DataSet struct {
	ID      string `json:"id" dynamodbav:"id"`
	AssetID string `json:"assetId" dynamodbav:"assetId"`
	Kind    string `json:"kind" dynamodbav:"kind"`
}

// Order is an order or bill of an app or service; it follows its asset.
type Order struct {
	ID          string `json:"id" dynamodbav:"id"`
	AssetID     string `json:"assetId" dynamodbav:"assetId"`
	AmountCents int64  `json:"amountCents" dynamodbav:"amountCents"`
	Currency    string `json:"currency" dynamodbav:"currency"`
	Status      string `json:"status" dynamodbav:"status"`
}
