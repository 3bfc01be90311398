package client

// The API's JSON shapes, as api/openapi.yaml describes them. Optional fields
// are omitempty; the validating transport (Validator) proves the server
// answers in exactly these shapes.

// Health is GET /healthz.
type Health struct {
	Status string `json:"status"`
}

// Account is the caller's old-platform account.
type Account struct {
	Platform  string `json:"platform"`
	AccountID string `json:"accountId"`
	Login     string `json:"login"`
	SubjectID string `json:"subjectId,omitempty"`
}

// Subject is a legal entity; the `personal` subject has only its id.
type Subject struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Certified bool   `json:"certified"`
}

// Item is an app, service, identity, data set or order.
type Item struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Platform    string `json:"platform,omitempty"`
	Name        string `json:"name,omitempty"`
	Kind        string `json:"kind,omitempty"`
	SubjectID   string `json:"subjectId,omitempty"`
	AssetID     string `json:"assetId,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	Role        string `json:"role,omitempty"`
	Certified   bool   `json:"certified"`
	AmountCents int64  `json:"amountCents,omitempty"`
	Currency    string `json:"currency,omitempty"`
	Status      string `json:"status,omitempty"`
	BatchKey    string `json:"batchKey,omitempty"`
	SkipReason  string `json:"skipReason,omitempty"`
	Holder      string `json:"holder,omitempty"`
	MovedBy     string `json:"movedBy,omitempty"`
	MovedAt     string `json:"movedAt,omitempty"`
	LinkedTo    string `json:"linkedTo,omitempty"`
}

// Membership is a collaboration relation: an account's role on an app.
type Membership struct {
	ID        string `json:"id"`
	AppID     string `json:"appId"`
	AppName   string `json:"appName,omitempty"`
	AppKind   string `json:"appKind,omitempty"`
	AccountID string `json:"accountId"`
	Role      string `json:"role"`
	BatchKey  string `json:"batchKey,omitempty"`
	LinkedTo  string `json:"linkedTo,omitempty"`
}

// Skipped is an asset that does not move, and why.
type Skipped struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason"`
}

// Counts are a batch's items by category.
type Counts struct {
	Apps       int `json:"apps"`
	Services   int `json:"services"`
	Identities int `json:"identities"`
	Members    int `json:"members"`
	Data       int `json:"data"`
	Orders     int `json:"orders"`
}

// Holdings are an account's items by category (assets and target accounts).
type Holdings struct {
	Apps        []Item       `json:"apps"`
	Services    []Item       `json:"services"`
	Identities  []Item       `json:"identities"`
	Memberships []Membership `json:"memberships"`
	Data        []Item       `json:"data"`
	Orders      []Item       `json:"orders"`
}

// Assets is GET /v1/assets: one page of the caller's assets.
type Assets struct {
	Account  Account   `json:"account"`
	Subjects []Subject `json:"subjects"`
	Holdings
	Skipped    []Skipped `json:"skipped"`
	Eligible   bool      `json:"eligible"`
	Reason     string    `json:"reason,omitempty"`
	NextCursor string    `json:"nextCursor,omitempty"`
}

// PlannedBatch is one batch of the split.
type PlannedBatch struct {
	BatchKey       string  `json:"batchKey"`
	Subject        Subject `json:"subject"`
	TargetPlatform string  `json:"targetPlatform"`
	Counts         Counts  `json:"counts"`
}

// Plan is GET /v1/plan.
type Plan struct {
	Eligible bool           `json:"eligible"`
	Reason   string         `json:"reason,omitempty"`
	Batches  []PlannedBatch `json:"batches"`
	Skipped  []Skipped      `json:"skipped"`
}

// StartRequest is the body of POST /v1/migrations; no keys = all batches.
type StartRequest struct {
	BatchKeys []string `json:"batchKeys,omitempty"`
}

// StartedBatch is a batch of a started migration.
type StartedBatch struct {
	BatchID  string `json:"batchId"`
	BatchKey string `json:"batchKey"`
	State    string `json:"state"`
}

// Started is the answer of POST /v1/migrations.
type Started struct {
	MigrationID  string         `json:"migrationId"`
	ExecutionArn string         `json:"executionArn"`
	State        string         `json:"state"`
	Batches      []StartedBatch `json:"batches"`
}

// Target is the account a batch lands in: ExistingTarget(id) or NewTarget().
type Target struct {
	Mode      string `json:"mode"`
	AccountID string `json:"accountId,omitempty"`
}

// ExistingTarget is an account of the caller's login.
func ExistingTarget(accountID string) Target { return Target{Mode: "existing", AccountID: accountID} }

// NewTarget asks for a new account.
func NewTarget() Target { return Target{Mode: "new"} }

// BatchAgreement is the agreement a batch was accepted under.
type BatchAgreement struct {
	Version    string `json:"version"`
	SHA256     string `json:"sha256"`
	Lang       string `json:"lang,omitempty"`
	AcceptedAt string `json:"acceptedAt"`
	Channel    string `json:"channel"`
}

// BatchError is why a batch FAILED.
type BatchError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Progress of a moving batch.
type Progress struct {
	Moved int `json:"moved"`
	Total int `json:"total"`
}

// Batch is a batch's status.
type Batch struct {
	BatchID         string          `json:"batchId"`
	BatchKey        string          `json:"batchKey"`
	SubjectID       string          `json:"subjectId"`
	TargetPlatform  string          `json:"targetPlatform"`
	State           string          `json:"state"`
	NextAction      string          `json:"nextAction"`
	TargetAccountID string          `json:"targetAccountId,omitempty"`
	Target          *Target         `json:"target,omitempty"`
	Progress        Progress        `json:"progress"`
	Counts          Counts          `json:"counts"`
	Agreement       *BatchAgreement `json:"agreement,omitempty"`
	Error           *BatchError     `json:"error,omitempty"`
	UpdatedAt       string          `json:"updatedAt"`
	ExpiresAt       string          `json:"expiresAt,omitempty"`
}

// Migration is GET /v1/migrations/{id} (and the ops route).
type Migration struct {
	MigrationID  string  `json:"migrationId"`
	State        string  `json:"state"`
	ExecutionArn string  `json:"executionArn,omitempty"`
	CreatedAt    string  `json:"createdAt"`
	Batches      []Batch `json:"batches"`
}

// History is one page of the caller's migrations, newest first.
type History struct {
	Migrations []Migration `json:"migrations"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// AccountRef names an account on a platform.
type AccountRef struct {
	Platform  string `json:"platform"`
	AccountID string `json:"accountId"`
}

// ReceiptItem is one thing a committed batch moved (fields in the order of
// their JSON names: the receipt's canonical form).
type ReceiptItem struct {
	AssetID string `json:"assetId,omitempty"`
	ID      string `json:"id"`
	Kind    string `json:"kind,omitempty"`
	Name    string `json:"name,omitempty"`
	Role    string `json:"role,omitempty"`
	Type    string `json:"type"`
}

// ReceiptAgreement is the agreement a receipt names.
type ReceiptAgreement struct {
	Version    string `json:"version"`
	SHA256     string `json:"sha256"`
	Lang       string `json:"lang,omitempty"`
	AcceptedBy string `json:"acceptedBy"`
	AcceptedAt string `json:"acceptedAt"`
	Channel    string `json:"channel,omitempty"`
}

// Receipt is what a committed batch moved (one page of its items).
type Receipt struct {
	MigrationID string            `json:"migrationId"`
	BatchID     string            `json:"batchId"`
	BatchKey    string            `json:"batchKey"`
	From        AccountRef        `json:"from"`
	To          AccountRef        `json:"to"`
	CommittedAt string            `json:"committedAt"`
	Agreement   *ReceiptAgreement `json:"agreement"`
	Items       []ReceiptItem     `json:"items"`
	Total       int               `json:"total"`
	SHA256      string            `json:"sha256"`
	NextCursor  string            `json:"nextCursor,omitempty"`
}

// Batch returns the batch with that id, or nil.
func (m *Migration) Batch(id string) *Batch {
	for i := range m.Batches {
		if m.Batches[i].BatchID == id {
			return &m.Batches[i]
		}
	}
	return nil
}

// Review is GET /v1/migrations/{id}/batches/{batchId}.
type Review struct {
	Batch
	Account    Account      `json:"account"`
	Subject    *Subject     `json:"subject"`
	Apps       []Item       `json:"apps"`
	Services   []Item       `json:"services"`
	Identity   *Item        `json:"identity"`
	Identities []Item       `json:"identities"`
	Members    []Membership `json:"members"`
	Data       []Item       `json:"data"`
	Orders     []Item       `json:"orders"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

// Agreement is GET /v1/agreement.
type Agreement struct {
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Text    string `json:"text"`
	Lang    string `json:"lang"`
}

// AcceptRequest accepts the viewed agreement for one batch.
type AcceptRequest struct {
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// CommitRequest confirms a batch; Confirm must be true.
type CommitRequest struct {
	Confirm bool `json:"confirm"`
}

// Candidate is an existing account a batch may land in.
type Candidate struct {
	AccountID  string `json:"accountId"`
	Login      string `json:"login"`
	Onboarding string `json:"onboarding"`
	SubjectID  string `json:"subjectId,omitempty"`
}

// Targets is GET …/targets.
type Targets struct {
	Existing   []Candidate `json:"existing"`
	NewAllowed bool        `json:"newAllowed"`
}

// TargetAccount is GET /v1/targets/{platform}/accounts/{accountId}.
type TargetAccount struct {
	Platform   string `json:"platform"`
	AccountID  string `json:"accountId"`
	Login      string `json:"login"`
	Onboarding string `json:"onboarding"`
	SubjectID  string `json:"subjectId,omitempty"`
	Holdings
	NextCursor string `json:"nextCursor,omitempty"`
}

// Page selects one page of a paged list: Cursor is the previous page's
// NextCursor, Limit 0 means the server's default (200).
type Page struct {
	Cursor string
	Limit  int
}
