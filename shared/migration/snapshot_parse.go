package migration

import (
	"encoding/json"
	"fmt"
	"io"
)

// MaxSnapshotBytes bounds what ParseSnapshot reads; a larger snapshot is
// refused rather than half-read.
const MaxSnapshotBytes = 256 << 20

// ParseSnapshot decodes and validates a whole snapshot. Any problem refuses it
// whole, naming the record, so nothing is ever half-loaded (docs/CONTRACT.md §4).
func ParseSnapshot(r io.Reader) (*Snapshot, error) {
	lr := &io.LimitedReader{R: r, N: MaxSnapshotBytes + 1}
	raw, err := io.ReadAll(lr)
	if err != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "snapshot could not be read", Err: err}
	}
	if len(raw) > MaxSnapshotBytes {
		return nil, Errorf(CodeInvalidInput, "snapshot is larger than %d bytes", MaxSnapshotBytes)
	}
	// Two passes: the outline first, then every record on its own, so a
	// decoding error names the record ("apps[3]") as a validation error does.
	var outline struct {
		Version        int               `json:"version"`
		Subjects       []json.RawMessage `json:"subjects"`
		Accounts       []json.RawMessage `json:"accounts"`
		Identities     []json.RawMessage `json:"identities"`
		Apps           []json.RawMessage `json:"apps"`
		Services       []json.RawMessage `json:"services"`
		Members        []json.RawMessage `json:"members"`
		Data           []json.RawMessage `json:"data"`
		Orders         []json.RawMessage `json:"orders"`
		TargetAccounts []json.RawMessage `json:"targetAccounts"`
	}
	if err := DecodeStrict(raw, &outline); err != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "snapshot is not valid: " + DecodeProblem(err), Err: err}
	}
	snap := Snapshot{Version: outline.Version}
	for _, part := range []struct {
		name    string
		records []json.RawMessage
		decode  func(json.RawMessage) error
	}{
		{"subjects", outline.Subjects, appendRecord(&snap.Subjects)},
		{"accounts", outline.Accounts, appendRecord(&snap.Accounts)},
		{"identities", outline.Identities, appendRecord(&snap.Identities)},
		{"apps", outline.Apps, appendRecord(&snap.Apps)},
		{"services", outline.Services, appendRecord(&snap.Services)},
		{"members", outline.Members, appendRecord(&snap.Members)},
		{"data", outline.Data, appendRecord(&snap.Data)},
		{"orders", outline.Orders, appendRecord(&snap.Orders)},
		{"targetAccounts", outline.TargetAccounts, appendRecord(&snap.TargetAccounts)},
	} {
		for i, rec := range part.records {
			if err := part.decode(rec); err != nil {
				return nil, &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("%s[%d]: %s", part.name, i, DecodeProblem(err)), Err: err}
			}
		}
	}
	if err := snap.Validate(); err != nil {
		return nil, err
	}
	return &snap, nil
}

func appendRecord[T any](list *[]T) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		var v T
		if err := DecodeStrict(raw, &v); err != nil {
			return err
		}
		*list = append(*list, v)
		return nil
	}
}

// Validate checks every record and every reference between records.
// Kept whole (97 lines): one loop per record kind in the snapshot's order,
// sharing the seen-id sets that the references are checked against.
func (s *Snapshot) Validate() error {
	if s.Version != 1 {
		return Errorf(CodeInvalidInput, "snapshot version must be 1, not %d", s.Version)
	}
	v := validator{}
	subjects := map[string]bool{}
	for i, x := range s.Subjects {
		at := fmt.Sprintf("subjects[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.unique(at, subjects, x.ID)
		v.check(at, x.ID != PersonalSubject, "subject id %q is reserved for collaborators without a subject", x.ID)
		v.check(at, x.Kind == SubjectCompany || x.Kind == SubjectIndividualBusiness || x.Kind == SubjectPerson, "kind %q is not company, individual_business or person", x.Kind)
	}
	accounts := map[string]bool{}
	for i, x := range s.Accounts {
		at := fmt.Sprintf("accounts[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not microapp, douyin_open_legacy or third_party", x.Platform)
		v.unique(at, accounts, SourceHolder(x.Platform, x.ID))
		v.check(at, x.Login != "" && len(x.Login) <= 254, "login must be an email or phone")
		v.check(at, x.SubjectID == "" || subjects[x.SubjectID], "subjectId %q is not a subject", x.SubjectID)
	}
	account := func(p SourcePlatform, id string) bool { return accounts[SourceHolder(p, id)] }
	identities := map[string]bool{}
	for i, x := range s.Identities {
		at := fmt.Sprintf("identities[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.unique(at, identities, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not a source platform", x.Platform)
		v.check(at, account(x.Platform, x.AccountID), "accountId %q is not an account on %s", x.AccountID, x.Platform)
		v.check(at, x.Kind == IdentityDeveloper || x.Kind == IdentitySystemServiceProvider || x.Kind == IdentityServiceProvider, "kind %q is not developer, system_service_provider or service_provider", x.Kind)
		v.check(at, subjects[x.SubjectID], "subjectId %q is not a subject", x.SubjectID)
	}
	assets := map[string]bool{}
	appPlatform := map[string]SourcePlatform{}
	appCreator := map[string]string{}
	for i, x := range s.Apps {
		at := fmt.Sprintf("apps[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.unique(at, assets, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not a source platform", x.Platform)
		v.check(at, x.Kind == AppMiniprogram || x.Kind == AppMobile || x.Kind == AppWeb, "kind %q is not miniprogram, mobile_app or web_app", x.Kind)
		v.check(at, account(x.Platform, x.CreatorAccountID), "creatorAccountId %q is not an account on %s", x.CreatorAccountID, x.Platform)
		v.check(at, subjects[x.SubjectID], "subjectId %q is not a subject", x.SubjectID)
		appPlatform[x.ID], appCreator[x.ID] = x.Platform, x.CreatorAccountID
	}
	for i, x := range s.Services {
		at := fmt.Sprintf("services[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.unique(at, assets, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not a source platform", x.Platform)
		v.check(at, account(x.Platform, x.OwnerAccountID), "ownerAccountId %q is not an account on %s", x.OwnerAccountID, x.Platform)
		v.check(at, subjects[x.SubjectID], "subjectId %q is not a subject", x.SubjectID)
	}
	members := map[string]bool{}
	for i, x := range s.Members {
		at := fmt.Sprintf("members[%d] (assetId %q, accountId %q)", i, x.AssetID, x.AccountID)
		p, isApp := appPlatform[x.AssetID]
		if !v.check(at, isApp, "assetId %q is not an app", x.AssetID) {
			continue
		}
		v.check(at, account(p, x.AccountID), "accountId %q is not an account on %s", x.AccountID, p)
		v.check(at, x.AccountID != appCreator[x.AssetID], "the creator is the app's super admin already")
		v.check(at, x.Role == RoleAdmin || x.Role == RoleCollaborator, "role %q is not admin or collaborator", x.Role)
		v.unique(at, members, MemberItemID(x.AssetID, x.AccountID))
	}
	data := map[string]bool{}
	for i, x := range s.Data {
		at := fmt.Sprintf("data[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.unique(at, data, x.ID)
		v.check(at, assets[x.AssetID], "assetId %q is not an app or service", x.AssetID)
		v.check(at, x.Kind != "", "kind is required")
	}
	orders := map[string]bool{}
	for i, x := range s.Orders {
		at := fmt.Sprintf("orders[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.unique(at, orders, x.ID)
		v.check(at, assets[x.AssetID], "assetId %q is not an app or service", x.AssetID)
		v.check(at, x.AmountCents >= 0, "amountCents must not be negative")
		v.check(at, len(x.Currency) == 3, "currency %q is not a 3-letter code", x.Currency)
		v.check(at, x.Status != "", "status is required")
	}
	targets := map[string]bool{}
	for i, x := range s.TargetAccounts {
		at := fmt.Sprintf("targetAccounts[%d] (id %q)", i, x.ID)
		v.id(at, x.ID)
		v.check(at, x.Platform == TargetDeveloper || x.Platform == TargetPartner, "platform %q is not developer or partner", x.Platform)
		v.unique(at, targets, TargetHolder(x.Platform, x.ID))
		v.check(at, x.Login != "" && len(x.Login) <= 254, "login must be an email or phone")
		v.check(at, x.Onboarding == OnboardingNone || x.Onboarding == OnboardingApplied || x.Onboarding == OnboardingCompleted, "onboarding %q is not none, applied or completed", x.Onboarding)
		v.check(at, x.SubjectID == "" || subjects[x.SubjectID], "subjectId %q is not a subject", x.SubjectID)
		v.check(at, x.MiniPrograms >= 0 && x.MiniPrograms <= 1000000, "miniprograms must be 0 to 1000000")
	}
	return v.err
}

// validator keeps the first problem found; the first is the one to fix.
type validator struct{ err error }

func (v *validator) check(at string, ok bool, format string, args ...any) bool {
	if !ok && v.err == nil {
		v.err = Errorf(CodeInvalidInput, "%s: %s", at, fmt.Sprintf(format, args...))
	}
	return ok
}

func (v *validator) id(at, id string) {
	v.check(at, ValidID(id), "id must be 1-128 letters, digits or -_.@+")
}

func (v *validator) unique(at string, seen map[string]bool, key string) {
	v.check(at, !seen[key], "duplicate id")
	seen[key] = true
}
