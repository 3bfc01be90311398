package migration

import "strings"

// ItemType names a kind of movable item. Every item the migration moves is one
// of these, held by exactly one account at a time.
type ItemType string

const (
	ItemApp      ItemType = "app"
	ItemService  ItemType = "service"
	ItemIdentity ItemType = "identity"
	ItemMember   ItemType = "member" // a collaboration relation: an account's role on someone's app
	ItemData     ItemType = "data"
	ItemOrder    ItemType = "order"
)

// SkipReason says why an item of the account does not move.
type SkipReason string

const (
	SkipUncertified        SkipReason = "UNCERTIFIED"         // the asset itself is not certified
	SkipSubjectUncertified SkipReason = "SUBJECT_UNCERTIFIED" // certified, but under a subject that is not
	SkipParentSkipped      SkipReason = "ASSET_SKIPPED"       // data, order or relation of an asset that does not move
)

// PersonalSubject keys the batch of an account with no subject of its own
// (docs/CONTRACT.md §4: a collaborator with no subject migrates under "personal").
const PersonalSubject = "personal"

// AccountRef names an account on any platform ("microapp:ma-1001").
type AccountRef struct {
	Platform string `json:"platform"`
	ID       string `json:"accountId"`
}

func (r AccountRef) String() string { return r.Platform + ":" + r.ID }

// ParseAccountRef reads "<platform>:<accountId>".
func ParseAccountRef(s string) (AccountRef, bool) {
	p, id, ok := strings.Cut(s, ":")
	if !ok || p == "" || id == "" {
		return AccountRef{}, false
	}
	return AccountRef{Platform: p, ID: id}, true
}

// Item is one movable thing as the store keeps it: what it is and, while it is
// still on the old platform, the batch the split put it in (or why it stays).
type Item struct {
	Type      ItemType       `json:"type" dynamodbav:"type"`
	ID        string         `json:"id" dynamodbav:"id"`
	Platform  SourcePlatform `json:"platform,omitempty" dynamodbav:"platform,omitempty"`
	Name      string         `json:"name,omitempty" dynamodbav:"name,omitempty"`
	Kind      string         `json:"kind,omitempty" dynamodbav:"kind,omitempty"`
	SubjectID string         `json:"subjectId,omitempty" dynamodbav:"subjectId,omitempty"`
	ParentID  string         `json:"assetId,omitempty" dynamodbav:"parentId,omitempty"`
	AccountID string         `json:"accountId,omitempty" dynamodbav:"memberAccountId,omitempty"` // members: the collaborator
	Role      Role           `json:"role,omitempty" dynamodbav:"role,omitempty"`
	Certified bool           `json:"certified" dynamodbav:"certified"`
	// Orders.
	AmountCents int64  `json:"amountCents,omitempty" dynamodbav:"amountCents,omitempty"`
	Currency    string `json:"currency,omitempty" dynamodbav:"currency,omitempty"`
	Status      string `json:"status,omitempty" dynamodbav:"status,omitempty"`

	// Placement, set by Split while the item is on the old platform.
	BatchKey string     `json:"batchKey,omitempty" dynamodbav:"batchKey,omitempty"`
	Skip     SkipReason `json:"skipReason,omitempty" dynamodbav:"skip,omitempty"`
	// Where the item lives now, and which batch moved it there.
	Holder  string `json:"holder,omitempty" dynamodbav:"holder"`
	MovedBy string `json:"movedBy,omitempty" dynamodbav:"movedBy,omitempty"`
	MovedAt string `json:"movedAt,omitempty" dynamodbav:"movedAt,omitempty"`
	// MovedIn is the migration of the batch that moved the item (MovedBy).
	MovedIn string `json:"-" dynamodbav:"movedIn,omitempty"`
	// WaitsFor names the batch an item arrived too late for: it came after
	// that batch's point of no return, so that batch's move leaves it and a
	// later migration of the account takes it (docs/CONTRACT.md §4).
	WaitsFor string `json:"-" dynamodbav:"waitsFor,omitempty"`
	// LateArrival marks a record that arrived after its asset had moved and
	// followed it (MovedBy is the asset's batch, which did not move it).
	LateArrival bool `json:"-" dynamodbav:"late,omitempty"`
	// Members only: the app's holder and batch on the old platform. The relation
	// itself moves with the collaborator's batch; the app owner's batch lists it
	// for review, and the link follows the app by its id (rule 8).
	AppHolder string `json:"-" dynamodbav:"appHolder,omitempty"`
	// LinkedTo is, on reading a relation, the platform its app lives on now:
	// the app's target platform once the app's own migration committed (rule 8).
	LinkedTo    string `json:"linkedTo,omitempty" dynamodbav:"-"`
	AppBatchKey string `json:"-" dynamodbav:"appBatchKey,omitempty"`
}

// Key identifies the item across types.
func (it Item) Key() string { return string(it.Type) + "#" + it.ID }

// IsMiniProgram reports whether the item counts against the developer quota.
func (it Item) IsMiniProgram() bool {
	return it.Type == ItemApp && AppKind(it.Kind) == AppMiniprogram
}

// MemberItemID is the id of a collaboration relation: one per account and app.
func MemberItemID(appID, accountID string) string { return appID + "~" + accountID }

// Holder names who holds an item: an old-platform account or a new-platform one.
func SourceHolder(p SourcePlatform, accountID string) string {
	return "src:" + string(p) + ":" + accountID
}

func TargetHolder(p TargetPlatform, accountID string) string {
	return "tgt:" + string(p) + ":" + accountID
}

// TargetPlatformOfApp is where apps of any kind go (docs/CONTRACT.md §4).
func TargetPlatformOfApp(AppKind) TargetPlatform { return TargetDeveloper }

// TargetPlatformOfService: services, including third-party / on-behalf
// development services, go to the service-provider platform (rule 5).
func TargetPlatformOfService() TargetPlatform { return TargetPartner }

// TargetPlatformOfIdentity: a developer identity stays with developers; provider
// identities go to the service-provider platform (rule 5).
func TargetPlatformOfIdentity(k IdentityKind) TargetPlatform {
	if k == IdentityDeveloper {
		return TargetDeveloper
	}
	return TargetPartner
}

// BatchKey is "<subjectId>/<targetPlatform>" (docs/CONTRACT.md §2).
func BatchKey(subjectID string, p TargetPlatform) string {
	if subjectID == "" {
		subjectID = PersonalSubject
	}
	return subjectID + "/" + string(p)
}

// ParseBatchKey splits a batch key into subject and target platform.
func ParseBatchKey(key string) (subjectID string, p TargetPlatform, ok bool) {
	i := strings.LastIndexByte(key, '/')
	if i <= 0 || i == len(key)-1 {
		return "", "", false
	}
	p = TargetPlatform(key[i+1:])
	if p != TargetDeveloper && p != TargetPartner {
		return "", "", false
	}
	return key[:i], p, true
}

// ValidID accepts the ids the API and the snapshot use: 1-128 printable ASCII
// characters without path separators or spaces, so an id can never escape a
// key or a URL segment.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '@' || c == '+':
		default:
			return false
		}
	}
	return true
}
