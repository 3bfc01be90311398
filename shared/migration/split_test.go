package migration

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---- small snapshot builders -------------------------------------------------

func subj(id string, kind SubjectKind, certified bool) Subject {
	return Subject{ID: id, Name: "Subject " + id, Kind: kind, Certified: certified}
}

func acct(p SourcePlatform, id, subjectID string) Account {
	return Account{Platform: p, ID: id, Login: id + "@example.com", SubjectID: subjectID}
}

func app(id string, p SourcePlatform, kind AppKind, creator, subjectID string, certified bool) App {
	return App{ID: id, Platform: p, Kind: kind, Name: "App " + id, CreatorAccountID: creator, SubjectID: subjectID, Certified: certified}
}

func svc(id string, p SourcePlatform, owner, subjectID string, certified bool) Service {
	return Service{ID: id, Platform: p, Name: "Service " + id, OwnerAccountID: owner, SubjectID: subjectID, Certified: certified}
}

func idn(id string, p SourcePlatform, accountID string, kind IdentityKind, subjectID string, certified bool) Identity {
	return Identity{ID: id, Platform: p, AccountID: accountID, Kind: kind, SubjectID: subjectID, Certified: certified}
}

func mem(assetID, accountID string, role Role) Member {
	return Member{AssetID: assetID, AccountID: accountID, Role: role}
}

func ds(id, assetID string) DataSet { return DataSet{ID: id, AssetID: assetID, Kind: "analytics"} }

func ord(id, assetID string) Order {
	return Order{ID: id, AssetID: assetID, AmountCents: 9900, Currency: "CNY", Status: "paid"}
}

// heldBy is what the store returns as HeldItems(holder): the items the account holds.
func heldBy(items []Item, holder string) []Item {
	var out []Item
	for _, it := range items {
		if it.Holder == holder {
			out = append(out, it)
		}
	}
	return out
}

// followersOf is what the store returns as Followers(holder): the relations
// other accounts hold on holder's apps.
func followersOf(items []Item, holder string) []Item {
	var out []Item
	for _, it := range items {
		if it.Type == ItemMember && it.AppHolder == holder {
			out = append(out, it)
		}
	}
	return out
}

// planOf places the snapshot and tallies the plan one account would see.
func planOf(t *testing.T, snap *Snapshot, p SourcePlatform, accountID string) (Plan, []Item) {
	t.Helper()
	require.NoError(t, snap.Validate(), "the hand-built snapshot must itself be valid")
	items := Place(snap)
	for _, it := range items {
		require.NotEmpty(t, it.Holder, "item %s has no holder", it.Key())
		require.True(t, (it.BatchKey == "") != (it.Skip == ""), "item %s must have exactly one of batchKey %q / skip %q", it.Key(), it.BatchKey, it.Skip)
	}
	holder := SourceHolder(p, accountID)
	return Tally(heldBy(items, holder), followersOf(items, holder)), items
}

func findItem(t *testing.T, items []Item, typ ItemType, id string) Item {
	t.Helper()
	for _, it := range items {
		if it.Type == typ && it.ID == id {
			return it
		}
	}
	require.Failf(t, "item not placed", "%s#%s", typ, id)
	return Item{}
}

// ---- the rules -----------------------------------------------------------------

// rolesSnapshot: ma-1 (subject subj-a) created app-1; ma-2 (subject subj-b) is
// its admin and ma-3 (no subject) its collaborator.
func rolesSnapshot() *Snapshot {
	return &Snapshot{
		Version:  1,
		Subjects: []Subject{subj("subj-a", SubjectCompany, true), subj("subj-b", SubjectPerson, true)},
		Accounts: []Account{
			acct(PlatformMicroapp, "ma-1", "subj-a"),
			acct(PlatformMicroapp, "ma-2", "subj-b"),
			acct(PlatformMicroapp, "ma-3", ""),
		},
		Apps:    []App{app("app-1", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-a", true)},
		Members: []Member{mem("app-1", "ma-2", RoleAdmin), mem("app-1", "ma-3", RoleCollaborator)},
		Data:    []DataSet{ds("ds-1", "app-1")},
	}
}

func TestPlaceAndTally(t *testing.T) {
	tests := []struct {
		name     string
		snap     *Snapshot
		platform SourcePlatform
		account  string
		eligible bool
		batches  []PlannedBatch
		skipped  []Skipped
		check    func(t *testing.T, items []Item)
	}{
		{
			name: "rule1_only_an_uncertified_app_needs_no_migration",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts: []Account{acct(PlatformMicroapp, "ma-1", "subj-a")},
				Apps:     []App{app("app-u", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-a", false)},
			},
			platform: PlatformMicroapp, account: "ma-1",
			eligible: false,
			batches:  []PlannedBatch{},
			skipped:  []Skipped{{ID: "app-u", Type: ItemApp, Reason: SkipUncertified}},
		},
		{
			name: "rule1_an_account_with_nothing_needs_no_migration",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts: []Account{acct(PlatformMicroapp, "ma-1", "subj-a"), acct(PlatformMicroapp, "ma-2", "subj-a")},
				Apps:     []App{app("app-other", PlatformMicroapp, AppWeb, "ma-2", "subj-a", true)},
			},
			platform: PlatformMicroapp, account: "ma-1",
			eligible: false,
			batches:  []PlannedBatch{},
		},
		{
			name:     "rule2_super_admin_migrates_created_apps_and_sees_followers_in_members",
			snap:     rolesSnapshot(),
			platform: PlatformMicroapp, account: "ma-1",
			eligible: true,
			batches: []PlannedBatch{{BatchKey: "subj-a/developer", SubjectID: "subj-a", TargetPlatform: TargetDeveloper,
				Counts: Counts{Apps: 1, Members: 2, Data: 1}, Moves: 2, MiniPrograms: 1}},
		},
		{
			name:     "rule2_admin_migrates_only_the_relation_in_its_own_subject_batch",
			snap:     rolesSnapshot(),
			platform: PlatformMicroapp, account: "ma-2",
			eligible: true,
			batches: []PlannedBatch{{BatchKey: "subj-b/developer", SubjectID: "subj-b", TargetPlatform: TargetDeveloper,
				Counts: Counts{Members: 1}, Moves: 1}},
			check: func(t *testing.T, items []Item) {
				held := heldBy(items, SourceHolder(PlatformMicroapp, "ma-2"))
				require.Len(t, held, 1, "the admin holds the relation and nothing else")
				rel := held[0]
				assert.Equal(t, ItemMember, rel.Type)
				assert.Equal(t, MemberItemID("app-1", "ma-2"), rel.ID)
				assert.Equal(t, "app-1", rel.ParentID)
				assert.Equal(t, "ma-2", rel.AccountID)
				assert.Equal(t, RoleAdmin, rel.Role)
				assert.Equal(t, "subj-b/developer", rel.BatchKey)
				assert.Equal(t, SourceHolder(PlatformMicroapp, "ma-1"), rel.AppHolder, "the app stays with its creator")
				assert.Equal(t, "subj-a/developer", rel.AppBatchKey)
				a := findItem(t, items, ItemApp, "app-1")
				assert.Equal(t, SourceHolder(PlatformMicroapp, "ma-1"), a.Holder, "the app is never the admin's to move")
				d := findItem(t, items, ItemData, "ds-1")
				assert.Equal(t, SourceHolder(PlatformMicroapp, "ma-1"), d.Holder, "the app's data stays with the app, not the admin")
			},
		},
		{
			name:     "rule2_collaborator_without_subject_migrates_the_relation_under_personal",
			snap:     rolesSnapshot(),
			platform: PlatformMicroapp, account: "ma-3",
			eligible: true,
			batches: []PlannedBatch{{BatchKey: "personal/developer", SubjectID: "personal", TargetPlatform: TargetDeveloper,
				Counts: Counts{Members: 1}, Moves: 1}},
			check: func(t *testing.T, items []Item) {
				for _, it := range heldBy(items, SourceHolder(PlatformMicroapp, "ma-3")) {
					assert.Equal(t, ItemMember, it.Type, "the collaborator holds only relations, got %s", it.Key())
				}
			},
		},
		{
			name: "rules3_4_legacy_miniprograms_split_by_the_subject_they_were_published_under",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true), subj("subj-b", SubjectIndividualBusiness, true)},
				Accounts: []Account{acct(PlatformDouyinOpenLegacy, "dl-1", "subj-a")},
				Apps: []App{
					app("mp-a1", PlatformDouyinOpenLegacy, AppMiniprogram, "dl-1", "subj-a", true),
					app("mp-b1", PlatformDouyinOpenLegacy, AppMiniprogram, "dl-1", "subj-b", true),
					app("mp-b2", PlatformDouyinOpenLegacy, AppMiniprogram, "dl-1", "subj-b", true),
					app("web-b", PlatformDouyinOpenLegacy, AppWeb, "dl-1", "subj-b", true),
				},
				Data:   []DataSet{ds("ds-b1", "mp-b1")},
				Orders: []Order{ord("ord-a1", "mp-a1")},
			},
			platform: PlatformDouyinOpenLegacy, account: "dl-1",
			eligible: true,
			batches: []PlannedBatch{
				{BatchKey: "subj-a/developer", SubjectID: "subj-a", TargetPlatform: TargetDeveloper, Counts: Counts{Apps: 1, Orders: 1}, Moves: 2, MiniPrograms: 1},
				{BatchKey: "subj-b/developer", SubjectID: "subj-b", TargetPlatform: TargetDeveloper, Counts: Counts{Apps: 3, Data: 1}, Moves: 4, MiniPrograms: 2},
			},
		},
		{
			name: "rule5_system_service_provider_apps_to_developer_services_to_partner",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts: []Account{acct(PlatformThirdParty, "tp-1", "subj-a")},
				Identities: []Identity{
					idn("idn-ssp", PlatformThirdParty, "tp-1", IdentitySystemServiceProvider, "subj-a", true),
					idn("idn-dev", PlatformThirdParty, "tp-1", IdentityDeveloper, "subj-a", true),
				},
				Apps:     []App{app("app-1", PlatformThirdParty, AppMobile, "tp-1", "subj-a", true)},
				Services: []Service{svc("svc-1", PlatformThirdParty, "tp-1", "subj-a", true), svc("svc-2", PlatformThirdParty, "tp-1", "subj-a", true)},
				Data:     []DataSet{ds("ds-app", "app-1"), ds("ds-svc", "svc-1")},
				Orders:   []Order{ord("ord-svc", "svc-2")},
			},
			platform: PlatformThirdParty, account: "tp-1",
			eligible: true,
			batches: []PlannedBatch{
				{BatchKey: "subj-a/developer", SubjectID: "subj-a", TargetPlatform: TargetDeveloper, Counts: Counts{Apps: 1, Identities: 1, Data: 1}, Moves: 3},
				{BatchKey: "subj-a/partner", SubjectID: "subj-a", TargetPlatform: TargetPartner, Counts: Counts{Services: 2, Identities: 1, Data: 1, Orders: 1}, Moves: 5},
			},
			check: func(t *testing.T, items []Item) {
				assert.Equal(t, "subj-a/partner", findItem(t, items, ItemIdentity, "idn-ssp").BatchKey)
				assert.Equal(t, "subj-a/developer", findItem(t, items, ItemIdentity, "idn-dev").BatchKey)
				assert.Equal(t, "subj-a/developer", findItem(t, items, ItemData, "ds-app").BatchKey)
				assert.Equal(t, "subj-a/partner", findItem(t, items, ItemData, "ds-svc").BatchKey)
				assert.Equal(t, "subj-a/partner", findItem(t, items, ItemOrder, "ord-svc").BatchKey)
			},
		},
		{
			name: "rule5_service_provider_identity_goes_to_partner",
			snap: &Snapshot{Version: 1,
				Subjects:   []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts:   []Account{acct(PlatformMicroapp, "ma-1", "subj-a")},
				Identities: []Identity{idn("idn-sp", PlatformMicroapp, "ma-1", IdentityServiceProvider, "subj-a", true)},
			},
			platform: PlatformMicroapp, account: "ma-1",
			eligible: true,
			batches: []PlannedBatch{
				{BatchKey: "subj-a/partner", SubjectID: "subj-a", TargetPlatform: TargetPartner, Counts: Counts{Identities: 1}, Moves: 1},
			},
		},
		{
			name: "data_and_orders_follow_their_asset_or_are_skipped_with_it",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts: []Account{acct(PlatformMicroapp, "ma-1", "subj-a")},
				Apps: []App{
					app("app-ok", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-a", true),
					app("app-u", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-a", false),
				},
				Services: []Service{svc("svc-u", PlatformMicroapp, "ma-1", "subj-a", false)},
				Data:     []DataSet{ds("ds-ok", "app-ok"), ds("ds-u", "app-u"), ds("ds-svc-u", "svc-u")},
				Orders:   []Order{ord("ord-ok", "app-ok"), ord("ord-u", "app-u")},
			},
			platform: PlatformMicroapp, account: "ma-1",
			eligible: true,
			batches: []PlannedBatch{
				{BatchKey: "subj-a/developer", SubjectID: "subj-a", TargetPlatform: TargetDeveloper, Counts: Counts{Apps: 1, Data: 1, Orders: 1}, Moves: 3, MiniPrograms: 1},
			},
			skipped: []Skipped{
				{ID: "app-u", Type: ItemApp, Reason: SkipUncertified},
				{ID: "svc-u", Type: ItemService, Reason: SkipUncertified},
				{ID: "ds-u", Type: ItemData, Reason: SkipParentSkipped},
				{ID: "ds-svc-u", Type: ItemData, Reason: SkipParentSkipped},
				{ID: "ord-u", Type: ItemOrder, Reason: SkipParentSkipped},
			},
			check: func(t *testing.T, items []Item) {
				a := findItem(t, items, ItemApp, "app-ok")
				for _, id := range []string{"ds-ok"} {
					d := findItem(t, items, ItemData, id)
					assert.Equal(t, a.BatchKey, d.BatchKey)
					assert.Equal(t, a.Holder, d.Holder)
				}
				o := findItem(t, items, ItemOrder, "ord-ok")
				assert.Equal(t, a.BatchKey, o.BatchKey)
				assert.Equal(t, a.Holder, o.Holder)
			},
		},
		{
			name: "relation_on_a_skipped_app_is_skipped_for_the_collaborator",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts: []Account{acct(PlatformMicroapp, "ma-1", "subj-a"), acct(PlatformMicroapp, "ma-2", "")},
				Apps:     []App{app("app-u", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-a", false)},
				Members:  []Member{mem("app-u", "ma-2", RoleCollaborator)},
			},
			platform: PlatformMicroapp, account: "ma-2",
			eligible: false,
			batches:  []PlannedBatch{},
			skipped:  []Skipped{{ID: MemberItemID("app-u", "ma-2"), Type: ItemMember, Reason: SkipParentSkipped}},
		},
		{
			name: "rule11_certified_assets_under_an_uncertified_subject_are_skipped",
			snap: &Snapshot{Version: 1,
				Subjects:   []Subject{subj("subj-a", SubjectCompany, true), subj("subj-u", SubjectCompany, false)},
				Accounts:   []Account{acct(PlatformMicroapp, "ma-1", "subj-a")},
				Identities: []Identity{idn("idn-1", PlatformMicroapp, "ma-1", IdentityDeveloper, "subj-u", true)},
				Apps:       []App{app("app-1", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-u", true)},
				Services:   []Service{svc("svc-1", PlatformMicroapp, "ma-1", "subj-u", true)},
				Orders:     []Order{ord("ord-1", "app-1")},
			},
			platform: PlatformMicroapp, account: "ma-1",
			eligible: false,
			batches:  []PlannedBatch{},
			skipped: []Skipped{
				{ID: "app-1", Type: ItemApp, Reason: SkipSubjectUncertified},
				{ID: "svc-1", Type: ItemService, Reason: SkipSubjectUncertified},
				{ID: "idn-1", Type: ItemIdentity, Reason: SkipSubjectUncertified},
				{ID: "ord-1", Type: ItemOrder, Reason: SkipParentSkipped},
			},
		},
		{
			name: "miniprograms_counted_only_for_kind_miniprogram",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts: []Account{acct(PlatformMicroapp, "ma-1", "subj-a")},
				Apps: []App{
					app("app-mp", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-a", true),
					app("app-mob", PlatformMicroapp, AppMobile, "ma-1", "subj-a", true),
					app("app-web", PlatformMicroapp, AppWeb, "ma-1", "subj-a", true),
				},
			},
			platform: PlatformMicroapp, account: "ma-1",
			eligible: true,
			batches: []PlannedBatch{
				{BatchKey: "subj-a/developer", SubjectID: "subj-a", TargetPlatform: TargetDeveloper, Counts: Counts{Apps: 3}, Moves: 3, MiniPrograms: 1},
			},
		},
		{
			name: "moves_count_written_items_own_relations_but_not_followers",
			snap: &Snapshot{Version: 1,
				Subjects: []Subject{subj("subj-a", SubjectCompany, true)},
				Accounts: []Account{acct(PlatformMicroapp, "ma-1", "subj-a"), acct(PlatformMicroapp, "ma-2", "subj-a")},
				Identities: []Identity{
					idn("idn-1", PlatformMicroapp, "ma-1", IdentityDeveloper, "subj-a", true),
				},
				Apps: []App{
					app("app-1", PlatformMicroapp, AppMiniprogram, "ma-1", "subj-a", true),
					app("app-2", PlatformMicroapp, AppWeb, "ma-2", "subj-a", true),
				},
				// ma-2 follows ma-1's app; ma-1 holds a relation on ma-2's app.
				Members: []Member{mem("app-1", "ma-2", RoleAdmin), mem("app-2", "ma-1", RoleCollaborator)},
				Data:    []DataSet{ds("ds-1", "app-1")},
				Orders:  []Order{ord("ord-1", "app-1")},
			},
			platform: PlatformMicroapp, account: "ma-1",
			eligible: true,
			batches: []PlannedBatch{
				// apps 1 + identity 1 + own relation 1 + data 1 + order 1 = 5 written;
				// the follower (ma-2 on app-1) is shown in members but not written.
				{BatchKey: "subj-a/developer", SubjectID: "subj-a", TargetPlatform: TargetDeveloper,
					Counts: Counts{Apps: 1, Identities: 1, Members: 2, Data: 1, Orders: 1}, Moves: 5, MiniPrograms: 1},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, items := planOf(t, tc.snap, tc.platform, tc.account)
			assert.Equal(t, tc.eligible, plan.Eligible, "eligible")
			if tc.eligible {
				assert.Empty(t, plan.Reason)
			} else {
				assert.Equal(t, CodeNoMigrationNeeded, plan.Reason)
			}
			require.NotNil(t, plan.Batches, "batches must be a list, never null")
			assert.Equal(t, tc.batches, plan.Batches)
			assert.ElementsMatch(t, tc.skipped, plan.Skipped, "skipped")
			if tc.check != nil {
				tc.check(t, items)
			}
		})
	}
}

// Every item of a snapshot ends up either in exactly one batch of its holder
// or skipped, and no item is held by two accounts (rule 9: nothing lost,
// nothing duplicated).
func TestPlaceEveryItemOnceAndOnlyOnce(t *testing.T) {
	snap := rolesSnapshot()
	items := Place(snap)
	require.Len(t, items, len(snap.Apps)+len(snap.Services)+len(snap.Identities)+len(snap.Members)+len(snap.Data)+len(snap.Orders))
	seen := map[string]bool{}
	for _, it := range items {
		assert.False(t, seen[it.Key()], "item %s placed twice", it.Key())
		seen[it.Key()] = true
	}
	// The owner's and the followers' plans together cover every placed item once.
	moves := 0
	for _, a := range snap.Accounts {
		p, _ := planOf(t, snap, a.Platform, a.ID)
		for _, b := range p.Batches {
			moves += b.Moves
		}
	}
	assert.Equal(t, len(items), moves, "sum of Moves over every account's plan is every item exactly once")
}

func TestPlanSelect(t *testing.T) {
	plan := Plan{Eligible: true, Batches: []PlannedBatch{
		{BatchKey: "subj-a/developer", SubjectID: "subj-a", TargetPlatform: TargetDeveloper},
		{BatchKey: "subj-a/partner", SubjectID: "subj-a", TargetPlatform: TargetPartner},
		{BatchKey: "subj-b/developer", SubjectID: "subj-b", TargetPlatform: TargetDeveloper},
	}}
	keys := func(bs []PlannedBatch) []string {
		out := []string{}
		for _, b := range bs {
			out = append(out, b.BatchKey)
		}
		return out
	}

	t.Run("empty_selects_all", func(t *testing.T) {
		for _, in := range [][]string{nil, {}} {
			got, err := plan.Select(in)
			require.NoError(t, err)
			assert.Equal(t, []string{"subj-a/developer", "subj-a/partner", "subj-b/developer"}, keys(got))
		}
	})
	t.Run("subset_in_the_order_asked", func(t *testing.T) {
		got, err := plan.Select([]string{"subj-b/developer", "subj-a/developer"})
		require.NoError(t, err)
		assert.Equal(t, []string{"subj-b/developer", "subj-a/developer"}, keys(got))
	})
	t.Run("duplicates_collapse", func(t *testing.T) {
		got, err := plan.Select([]string{"subj-a/partner", "subj-a/partner", "subj-a/partner"})
		require.NoError(t, err)
		assert.Equal(t, []string{"subj-a/partner"}, keys(got))
	})
	t.Run("unknown_key_is_refused", func(t *testing.T) {
		for _, k := range []string{"subj-c/developer", "subj-a/other", "", "subj-a/developer/"} {
			got, err := plan.Select([]string{"subj-a/developer", k})
			require.Error(t, err, "key %q", k)
			assert.Nil(t, got)
			assert.Equal(t, CodeUnknownBatch, ErrorCode(err), "key %q", k)
		}
	})
	t.Run("not_eligible_plan_refuses_any_key", func(t *testing.T) {
		empty := Tally(nil, nil)
		_, err := empty.Select([]string{"personal/developer"})
		assert.Equal(t, CodeUnknownBatch, ErrorCode(err))
	})
}
