package migration

import "fmt"

// Known answers what a record's references resolve to: the records of the
// same input and, for an import into a live table, what the table holds.
type Known interface {
	// Subject is a subject's certification; ok is false for no such subject.
	Subject(id string) (certified, ok bool)
	// AccountSubject is an old-platform account's own subject ("" for none).
	AccountSubject(holder string) (subjectID string, ok bool)
	// Asset is an app or service as placed: where it is now (its holder,
	// batch, skip, and movedBy once moved), with its platform and kind.
	Asset(id string) (Item, bool)
}

// Name names a record in errors: its place in the input and its id.
func (r Record) Name() string { return r.at() }

func (r Record) at() string {
	if r.Type == RecMember {
		return fmt.Sprintf("%s (assetId %q, accountId %q)", r.At, r.Member.AssetID, r.Member.AccountID)
	}
	return fmt.Sprintf("%s (id %q)", r.At, r.ID())
}

// CheckRecord checks one record's own fields (its references are CheckRefs').
func CheckRecord(r Record) error {
	v := validator{}
	at := r.at()
	switch r.Type {
	case RecSubject:
		x := r.Subject
		v.id(at, x.ID)
		v.check(at, x.ID != PersonalSubject, "subject id %q is reserved for collaborators without a subject", x.ID)
		v.check(at, x.Kind == SubjectCompany || x.Kind == SubjectIndividualBusiness || x.Kind == SubjectPerson, "kind %q is not company, individual_business or person", x.Kind)
	case RecAccount:
		x := r.Account
		v.id(at, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not microapp, douyin_open_legacy or third_party", x.Platform)
		v.check(at, x.Login != "" && len(x.Login) <= 254, "login must be an email or phone")
	case RecIdentity:
		x := r.Identity
		v.id(at, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not a source platform", x.Platform)
		v.check(at, x.Kind == IdentityDeveloper || x.Kind == IdentitySystemServiceProvider || x.Kind == IdentityServiceProvider, "kind %q is not developer, system_service_provider or service_provider", x.Kind)
	case RecApp:
		x := r.App
		v.id(at, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not a source platform", x.Platform)
		v.check(at, x.Kind == AppMiniprogram || x.Kind == AppMobile || x.Kind == AppWeb, "kind %q is not miniprogram, mobile_app or web_app", x.Kind)
	case RecService:
		x := r.Service
		v.id(at, x.ID)
		v.check(at, x.Platform.Valid(), "platform %q is not a source platform", x.Platform)
	case RecMember:
		x := r.Member
		v.check(at, ValidID(x.AssetID) && ValidID(x.AccountID), "assetId and accountId must be 1-128 letters, digits or -_.@+")
		v.check(at, x.Role == RoleAdmin || x.Role == RoleCollaborator, "role %q is not admin or collaborator", x.Role)
	case RecData:
		v.id(at, r.Data.ID)
		v.check(at, r.Data.Kind != "", "kind is required")
	case RecOrder:
		x := r.Order
		v.id(at, x.ID)
		v.check(at, x.AmountCents >= 0, "amountCents must not be negative")
		v.check(at, len(x.Currency) == 3, "currency %q is not a 3-letter code", x.Currency)
		v.check(at, x.Status != "", "status is required")
	case RecTarget:
		x := r.Target
		v.id(at, x.ID)
		v.check(at, x.Platform == TargetDeveloper || x.Platform == TargetPartner, "platform %q is not developer or partner", x.Platform)
		v.check(at, x.Login != "" && len(x.Login) <= 254, "login must be an email or phone")
		v.check(at, x.Onboarding == OnboardingNone || x.Onboarding == OnboardingApplied || x.Onboarding == OnboardingCompleted, "onboarding %q is not none, applied or completed", x.Onboarding)
		v.check(at, x.MiniPrograms >= 0 && x.MiniPrograms <= 1000000, "miniprograms must be 0 to 1000000")
	default:
		v.check(r.At, false, "type %q is not a record type", r.Type)
	}
	return v.err
}

// Ref is one reference a record makes, for resolving in bulk: an account
// (by holder), a subject or an asset.
type Ref struct {
	Kind string // "subject", "account", "asset"
	ID   string
}

// Refs lists what r refers to. A member's account depends on its app's
// platform; it is listed once the app is known (pass the app, or nil).
func (r Record) Refs(app *Item) []Ref {
	subj := func(id string) []Ref {
		if id == "" {
			return nil
		}
		return []Ref{{"subject", id}}
	}
	acct := func(p SourcePlatform, id string) Ref { return Ref{"account", SourceHolder(p, id)} }
	switch r.Type {
	case RecAccount:
		return subj(r.Account.SubjectID)
	case RecIdentity:
		return append(subj(r.Identity.SubjectID), acct(r.Identity.Platform, r.Identity.AccountID))
	case RecApp:
		return append(subj(r.App.SubjectID), acct(r.App.Platform, r.App.CreatorAccountID))
	case RecService:
		return append(subj(r.Service.SubjectID), acct(r.Service.Platform, r.Service.OwnerAccountID))
	case RecMember:
		if app != nil {
			return []Ref{{"asset", r.Member.AssetID}, acct(app.Platform, r.Member.AccountID)}
		}
		return []Ref{{"asset", r.Member.AssetID}}
	case RecData:
		return []Ref{{"asset", r.Data.AssetID}}
	case RecOrder:
		return []Ref{{"asset", r.Order.AssetID}}
	case RecTarget:
		return subj(r.Target.SubjectID)
	}
	return nil
}

// CheckRefs checks that every reference of r resolves.
func CheckRefs(r Record, k Known) error {
	v := validator{}
	at := r.at()
	subject := func(id string, optional bool) {
		if optional && id == "" {
			return
		}
		_, ok := k.Subject(id)
		v.check(at, ok, "subjectId %q is not a subject", id)
	}
	account := func(p SourcePlatform, id, field string) {
		_, ok := k.AccountSubject(SourceHolder(p, id))
		v.check(at, ok, "%s %q is not an account on %s", field, id, p)
	}
	switch r.Type {
	case RecAccount:
		subject(r.Account.SubjectID, true)
	case RecIdentity:
		account(r.Identity.Platform, r.Identity.AccountID, "accountId")
		subject(r.Identity.SubjectID, false)
	case RecApp:
		account(r.App.Platform, r.App.CreatorAccountID, "creatorAccountId")
		subject(r.App.SubjectID, false)
	case RecService:
		account(r.Service.Platform, r.Service.OwnerAccountID, "ownerAccountId")
		subject(r.Service.SubjectID, false)
	case RecMember:
		app, ok := k.Asset(r.Member.AssetID)
		if !v.check(at, ok && app.Type == ItemApp, "assetId %q is not an app", r.Member.AssetID) {
			return v.err
		}
		account(app.Platform, r.Member.AccountID, "accountId")
		v.check(at, app.Holder != SourceHolder(app.Platform, r.Member.AccountID), "the creator is the app's super admin already")
	case RecData, RecOrder:
		asset := r.Data.AssetID
		if r.Type == RecOrder {
			asset = r.Order.AssetID
		}
		_, ok := k.Asset(asset)
		v.check(at, ok, "assetId %q is not an app or service", asset)
	case RecTarget:
		subject(r.Target.SubjectID, true)
	}
	return v.err
}

// PlaceRecord is where one item record goes: held by its old-platform
// account and placed in that account's batch, or marked skipped with the
// reason (the rules of Place). Data and orders follow their asset as it is
// now (parent), members take their app's place for the review. It reports
// false for a record that is no item.
func PlaceRecord(r Record, k Known) (Item, bool) {
	certifiedUnder := func(certified bool, subjectID string) SkipReason {
		if !certified {
			return SkipUncertified
		}
		if c, ok := k.Subject(subjectID); !ok || !c {
			return SkipSubjectUncertified
		}
		return ""
	}
	place := func(it Item, holder string, p TargetPlatform, skip SkipReason) Item {
		it.Holder, it.Skip = holder, skip
		if skip == "" {
			it.BatchKey = BatchKey(it.SubjectID, p)
		}
		return it
	}
	// Data and orders follow the asset they belong to: same holder, same
	// batch; once the asset has moved, they follow it to its account.
	follow := func(it Item, assetID string) Item {
		p, _ := k.Asset(assetID)
		it.Holder, it.BatchKey, it.MovedBy, it.MovedIn, it.WaitsFor = p.Holder, p.BatchKey, p.MovedBy, p.MovedIn, p.WaitsFor
		if p.Skip != "" {
			it.Skip, it.BatchKey = SkipParentSkipped, ""
		}
		it.Certified = p.Skip == ""
		return it
	}
	switch r.Type {
	case RecApp:
		a := r.App
		// Apps move with their creator, the super admin, under the subject they
		// were certified (published) under, not the account's own (rule 4).
		return place(Item{Type: ItemApp, ID: a.ID, Platform: a.Platform, Name: a.Name, Kind: string(a.Kind), SubjectID: a.SubjectID, Certified: a.Certified},
			SourceHolder(a.Platform, a.CreatorAccountID), TargetPlatformOfApp(a.Kind), certifiedUnder(a.Certified, a.SubjectID)), true
	case RecService:
		s := r.Service
		return place(Item{Type: ItemService, ID: s.ID, Platform: s.Platform, Name: s.Name, SubjectID: s.SubjectID, Certified: s.Certified},
			SourceHolder(s.Platform, s.OwnerAccountID), TargetPlatformOfService(), certifiedUnder(s.Certified, s.SubjectID)), true
	case RecIdentity:
		idn := r.Identity
		return place(Item{Type: ItemIdentity, ID: idn.ID, Platform: idn.Platform, Kind: string(idn.Kind), SubjectID: idn.SubjectID, Certified: idn.Certified},
			SourceHolder(idn.Platform, idn.AccountID), TargetPlatformOfIdentity(idn.Kind), certifiedUnder(idn.Certified, idn.SubjectID)), true
	case RecMember:
		// A collaboration relation belongs to the collaborator: it moves in a
		// batch of the collaborator's own account, keyed by that account's
		// subject ("personal" without one) and the app's target platform. It
		// never moves the app itself (rule 2).
		m := r.Member
		app, _ := k.Asset(m.AssetID)
		holder := SourceHolder(app.Platform, m.AccountID)
		subjectID, _ := k.AccountSubject(holder)
		if subjectID == "" {
			subjectID = PersonalSubject
		}
		skip := SkipReason("")
		if app.Skip != "" {
			skip = SkipParentSkipped
		}
		it := place(Item{Type: ItemMember, ID: MemberItemID(m.AssetID, m.AccountID), Platform: app.Platform, Name: app.Name, Kind: app.Kind,
			SubjectID: subjectID, ParentID: m.AssetID, AccountID: m.AccountID, Role: m.Role, Certified: app.Certified},
			holder, TargetPlatformOfApp(AppKind(app.Kind)), skip)
		it.AppHolder, it.AppBatchKey = app.Holder, app.BatchKey
		return it, true
	case RecData:
		d := r.Data
		return follow(Item{Type: ItemData, ID: d.ID, ParentID: d.AssetID, Kind: d.Kind}, d.AssetID), true
	case RecOrder:
		o := r.Order
		return follow(Item{Type: ItemOrder, ID: o.ID, ParentID: o.AssetID, AmountCents: o.AmountCents, Currency: o.Currency, Status: o.Status}, o.AssetID), true
	}
	return Item{}, false
}

// snapshotKnown resolves references within one snapshot.
type snapshotKnown struct {
	subjects map[string]bool
	accounts map[string]string
	assets   map[string]Record
	placed   map[string]Item
}

func newSnapshotKnown(recs []Record) *snapshotKnown {
	k := &snapshotKnown{subjects: map[string]bool{}, accounts: map[string]string{}, assets: map[string]Record{}, placed: map[string]Item{}}
	for _, r := range recs {
		switch r.Type {
		case RecSubject:
			k.subjects[r.Subject.ID] = r.Subject.Certified
		case RecAccount:
			k.accounts[SourceHolder(r.Account.Platform, r.Account.ID)] = r.Account.SubjectID
		case RecApp, RecService:
			if _, dup := k.assets[r.ID()]; !dup {
				k.assets[r.ID()] = r
			}
		}
	}
	return k
}

func (k *snapshotKnown) Subject(id string) (bool, bool) {
	c, ok := k.subjects[id]
	return c, ok
}

func (k *snapshotKnown) AccountSubject(holder string) (string, bool) {
	s, ok := k.accounts[holder]
	return s, ok
}

func (k *snapshotKnown) Asset(id string) (Item, bool) {
	if it, ok := k.placed[id]; ok {
		return it, true
	}
	r, ok := k.assets[id]
	if !ok {
		return Item{}, false
	}
	it, _ := PlaceRecord(r, k)
	k.placed[id] = it
	return it, true
}
