package reliability

import (
	"fmt"
	"math/rand/v2"

	"github.com/devplatform/account-migration/shared/migration"
)

// A round's population: old-platform accounts grouped by subject, built so
// that the rules bite under concurrency:
//
//   - a subject's accounts together often bring more mini-programs than its
//     quota (5 for individuals and persons, 10 for companies), so their
//     confirmations race for it (rule 12);
//   - some logins own two old-platform accounts under different subjects and
//     one unbound developer account, which both may choose: only one subject
//     can bind it (rule 3);
//   - legacy apps certified under another subject (rule 4), services for the
//     partner platform (rule 5), collaboration relations (rule 2), and
//     uncertified apps that must never move (rule 11);
//   - existing target accounts that are eligible and some that are not
//     (onboarding none: refused at selection, rule 8);
//   - wide accounts (the first of every tenth table): 12-15 more subjects,
//     so more batches than the workflow's old Map limit of 10, one of them a
//     person's with 6 mini-programs, always over its quota of 5;
//   - ops accounts: migrations begun with an ops-recorded agreement, which
//     races the developer's own acceptance.
type population struct {
	snap     *migration.Snapshot
	accounts []plannedAccount
}

// plannedAccount is one developer of the round and what they will try.
type plannedAccount struct {
	ref   migration.AccountRef
	login string
	// existing target accounts of the login, by platform; eligible or not
	existing map[migration.TargetPlatform][]string
	// wide: more subjects than the old Map limit; ops: begun with an ops
	// agreement; edge: every confirmation goes through the HTTP edge.
	wide, ops, edge bool
}

// wideSubjects is how many extra subjects a wide account gets, at least:
// more batches than the workflow's old Map limit of 10.
const wideSubjects = 12

// buildPopulation builds a table's population; wide says its first account
// gets more subjects than the old Map limit, and the second (when there is
// one) is an ops account.
func buildPopulation(rng *rand.Rand, prefix string, accounts int, wide ...bool) population {
	snap := &migration.Snapshot{Version: 1}
	pop := population{snap: snap}
	platforms := []migration.SourcePlatform{migration.PlatformMicroapp, migration.PlatformDouyinOpenLegacy, migration.PlatformThirdParty}
	kinds := []migration.SubjectKind{migration.SubjectCompany, migration.SubjectIndividualBusiness, migration.SubjectPerson}
	id := func(kind string, n ...any) string {
		return prefix + "-" + fmt.Sprint(append([]any{kind}, n...)...)
	}

	var subjects []string
	var apps []migration.App // certified apps, for collaboration relations
	group, inGroup := -1, 0
	for i := 0; i < accounts; i++ {
		if inGroup == 0 {
			group++
			inGroup = 1 + rng.IntN(3)
			sid := id("subj-", group)
			subjects = append(subjects, sid)
			snap.Subjects = append(snap.Subjects, migration.Subject{ID: sid, Name: sid, Kind: kinds[rng.IntN(len(kinds))], Certified: true})
		}
		inGroup--
		subject := subjects[group]
		p := platforms[rng.IntN(len(platforms))]
		acct := id("acct-", i)
		login := fmt.Sprintf("%s@example.com", id("u-", i))
		// A twin: the previous account's person, on another old platform, under
		// another subject. Both may choose the login's one unbound account.
		twin := i > 0 && rng.Float64() < 0.15 && snap.Accounts[i-1].SubjectID != subject
		if twin {
			login = pop.accounts[i-1].login
		}
		snap.Accounts = append(snap.Accounts, migration.Account{Platform: p, ID: acct, Login: login, SubjectID: subject})
		pa := plannedAccount{ref: migration.AccountRef{Platform: string(p), ID: acct}, login: login, existing: map[migration.TargetPlatform][]string{}}
		if twin {
			// Shared map: both twins see (and may race for) the same accounts.
			pa.existing = pop.accounts[i-1].existing
			tid := id("dev-shared-", i)
			snap.TargetAccounts = append(snap.TargetAccounts, migration.TargetAccount{Platform: migration.TargetDeveloper, ID: tid, Login: login, Onboarding: migration.OnboardingCompleted})
			pa.existing[migration.TargetDeveloper] = append(pa.existing[migration.TargetDeveloper], tid)
		}

		app := func(kind migration.AppKind, subjectID string, certified bool) migration.App {
			a := migration.App{ID: id("app-", i, "-", len(snap.Apps)), Platform: p, Kind: kind, Name: "app", CreatorAccountID: acct, SubjectID: subjectID, Certified: certified}
			snap.Apps = append(snap.Apps, a)
			for d := rng.IntN(3); d > 0; d-- {
				snap.Data = append(snap.Data, migration.DataSet{ID: id("ds-", len(snap.Data)), AssetID: a.ID, Kind: "analytics"})
			}
			for o := rng.IntN(3); o > 0; o-- {
				snap.Orders = append(snap.Orders, migration.Order{ID: id("ord-", len(snap.Orders)), AssetID: a.ID, AmountCents: int64(100 * (1 + rng.IntN(99))), Currency: "CNY", Status: "paid"})
			}
			if certified {
				apps = append(apps, a)
			}
			return a
		}
		for n := 1 + rng.IntN(3); n > 0; n-- {
			app(migration.AppMiniprogram, subject, true)
		}
		if rng.Float64() < 0.2 && group > 0 {
			// Rule 4: certified under another subject when it was published.
			app(migration.AppMobile, subjects[rng.IntN(group)], true)
		}
		if rng.Float64() < 0.1 {
			app(migration.AppWeb, subject, false) // rule 11: stays, listed as skipped
		}
		if rng.Float64() < 0.3 {
			svc := migration.Service{ID: id("svc-", i), Platform: p, Name: "svc", OwnerAccountID: acct, SubjectID: subject, Certified: true}
			snap.Services = append(snap.Services, svc)
			snap.Orders = append(snap.Orders, migration.Order{ID: id("ord-", len(snap.Orders)), AssetID: svc.ID, AmountCents: 5000, Currency: "CNY", Status: "paid"})
			if rng.Float64() < 0.5 {
				snap.Identities = append(snap.Identities, migration.Identity{ID: id("idn-", i), Platform: p, AccountID: acct, Kind: migration.IdentityServiceProvider, SubjectID: subject, Certified: true})
			}
		}
		// Rule 2: a collaboration relation on someone else's app on this platform.
		if rng.Float64() < 0.2 {
			for tries := 0; tries < 4 && len(apps) > 0; tries++ {
				a := apps[rng.IntN(len(apps))]
				if a.Platform != p || a.CreatorAccountID == acct || hasMember(snap, a.ID, acct) {
					continue
				}
				role := migration.RoleCollaborator
				if rng.IntN(2) == 0 {
					role = migration.RoleAdmin
				}
				snap.Members = append(snap.Members, migration.Member{AssetID: a.ID, AccountID: acct, Role: role})
				break
			}
		}
		// Existing accounts on the new platforms (rule 8).
		if !twin {
			if rng.Float64() < 0.4 {
				tid := id("dev-", i)
				onb := migration.OnboardingCompleted
				if rng.IntN(3) == 0 {
					onb = migration.OnboardingApplied
				}
				bound := ""
				if rng.IntN(3) == 0 {
					bound = subject
				}
				snap.TargetAccounts = append(snap.TargetAccounts, migration.TargetAccount{Platform: migration.TargetDeveloper, ID: tid, Login: login, Onboarding: onb, SubjectID: bound})
				pa.existing[migration.TargetDeveloper] = append(pa.existing[migration.TargetDeveloper], tid)
			}
			if rng.Float64() < 0.1 {
				tid := id("dev-none-", i)
				snap.TargetAccounts = append(snap.TargetAccounts, migration.TargetAccount{Platform: migration.TargetDeveloper, ID: tid, Login: login, Onboarding: migration.OnboardingNone})
				pa.existing[migration.TargetDeveloper] = append(pa.existing[migration.TargetDeveloper], tid)
			}
			if rng.Float64() < 0.2 {
				tid := id("par-", i)
				snap.TargetAccounts = append(snap.TargetAccounts, migration.TargetAccount{Platform: migration.TargetPartner, ID: tid, Login: login, Onboarding: migration.OnboardingCompleted})
				pa.existing[migration.TargetPartner] = append(pa.existing[migration.TargetPartner], tid)
			}
		}
		pa.ops = rng.Float64() < 0.12 || (len(wide) > 0 && wide[0] && i == 1)
		if len(wide) > 0 && wide[0] && i == 0 {
			pa.wide, pa.edge = true, true
			widen(rng, snap, id, acct, p, rng.IntN(4))
		}
		pop.accounts = append(pop.accounts, pa)
	}
	return pop
}

// widen gives account acct wideSubjects+extra more subjects, each certified
// with one certified mini-program of the account's, so its plan has more
// batches than the old Map limit; the first is a person's with 6
// mini-programs, over its quota of 5, so its confirmation is refused.
func widen(rng *rand.Rand, snap *migration.Snapshot, id func(string, ...any) string, acct string, p migration.SourcePlatform, extra int) {
	kinds := []migration.SubjectKind{migration.SubjectCompany, migration.SubjectIndividualBusiness, migration.SubjectPerson}
	for k := 0; k < wideSubjects+extra; k++ {
		sid := id("subj-wide-", acct, "-", k)
		kind, minis := kinds[rng.IntN(len(kinds))], 1
		if k == 0 {
			kind, minis = migration.SubjectPerson, migration.MiniProgramQuota(migration.SubjectPerson)+1
		}
		snap.Subjects = append(snap.Subjects, migration.Subject{ID: sid, Name: sid, Kind: kind, Certified: true})
		for n := 0; n < minis; n++ {
			snap.Apps = append(snap.Apps, migration.App{ID: id("app-wide-", acct, "-", k, "-", n), Platform: p, Kind: migration.AppMiniprogram,
				Name: "app", CreatorAccountID: acct, SubjectID: sid, Certified: true})
		}
	}
}

func hasMember(snap *migration.Snapshot, appID, acct string) bool {
	for _, m := range snap.Members {
		if m.AssetID == appID && m.AccountID == acct {
			return true
		}
	}
	return false
}
