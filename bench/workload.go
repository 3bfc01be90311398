package main

import (
	"encoding/json"
	"fmt"

	"github.com/devplatform/account-migration/shared/migration"
)

// workload is one generated old-platform account: its snapshot, and the ops
// input that takes every one of its batches through the whole workflow
// (agreement, target, confirmation pre-recorded, as in e2e/ops_test.go).
type workload struct {
	Assets    int // items that move: apps + data + orders
	Subjects  int // one batch per subject (all apps go to developer)
	Source    migration.AccountRef
	Login     string
	BatchKeys []string `json:"-"`
	Snapshot  []byte   `json:"-"`
	// ItemKeys are the table keys (pk) of everything that moves, in the
	// store's layout (dynamostore/keys.go: ITEM#<type>#<id>).
	ItemKeys []string `json:"-"`
}

// newWorkload spreads assets over subjects, round robin, as thirds of apps,
// data sets and orders (each data set and order belongs to an app of its
// subject). Apps are web and mobile apps: a company subject may hold only ten
// mini-programs on developer, so big batches are made of the other kinds.
func newWorkload(assets, subjects int) (workload, error) {
	return buildWorkload(assets, subjects, false)
}

// newAppWorkload is an account of apps only (the API latency's account).
func newAppWorkload(apps int) (workload, error) {
	return buildWorkload(apps, 1, true)
}

func buildWorkload(assets, subjects int, appsOnly bool) (workload, error) {
	if subjects < 1 || assets < subjects {
		return workload{}, fmt.Errorf("%d assets cannot span %d subjects: every batch needs an app", assets, subjects)
	}
	w := workload{Assets: assets, Subjects: subjects, Source: migration.AccountRef{Platform: "microapp", ID: "ma-bench"}, Login: "bench@example.com"}
	snap := migration.Snapshot{Version: 1}
	for s := 0; s < subjects; s++ {
		id := fmt.Sprintf("subj-%03d", s)
		snap.Subjects = append(snap.Subjects, migration.Subject{ID: id, Name: "Bench Subject " + id + " Co., Ltd.", Kind: migration.SubjectCompany, Certified: true})
		w.BatchKeys = append(w.BatchKeys, id+"/"+string(migration.TargetDeveloper))
	}
	snap.Accounts = []migration.Account{{Platform: migration.SourcePlatform(w.Source.Platform), ID: w.Source.ID, Login: w.Login, SubjectID: snap.Subjects[0].ID}}

	for s := 0; s < subjects; s++ {
		// This subject's share of the assets.
		n := assets / subjects
		if s < assets%subjects {
			n++
		}
		subj := snap.Subjects[s].ID
		apps := (n + 2) / 3
		if appsOnly {
			apps = n
		}
		var ids []string
		for i := 0; i < apps; i++ {
			id := fmt.Sprintf("app-%03d-%05d", s, i)
			kind := migration.AppWeb
			if i%2 == 1 {
				kind = migration.AppMobile
			}
			snap.Apps = append(snap.Apps, migration.App{ID: id, Platform: migration.PlatformMicroapp, Kind: kind, Name: "Bench app " + id,
				CreatorAccountID: w.Source.ID, SubjectID: subj, Certified: true})
			ids = append(ids, id)
			w.ItemKeys = append(w.ItemKeys, "ITEM#app#"+id)
		}
		rest := n - apps
		for i := 0; i < rest; i++ {
			app := ids[(i/2)%len(ids)]
			if i%2 == 0 {
				id := fmt.Sprintf("ds-%03d-%05d", s, i)
				snap.Data = append(snap.Data, migration.DataSet{ID: id, AssetID: app, Kind: "analytics"})
				w.ItemKeys = append(w.ItemKeys, "ITEM#data#"+id)
			} else {
				id := fmt.Sprintf("ord-%03d-%05d", s, i)
				snap.Orders = append(snap.Orders, migration.Order{ID: id, AssetID: app, AmountCents: 9900, Currency: "CNY", Status: "paid"})
				w.ItemKeys = append(w.ItemKeys, "ITEM#order#"+id)
			}
		}
	}
	if err := snap.Validate(); err != nil {
		return workload{}, fmt.Errorf("generated snapshot: %w", err)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return workload{}, err
	}
	w.Snapshot = b
	return w, nil
}

// opsInput is the execution input of docs/CONTRACT.md §3 that commits every batch
// into a new developer account without waiting on anyone.
func (w workload) opsInput() ([]byte, error) {
	targets := map[string]migration.Target{}
	for _, k := range w.BatchKeys {
		targets[k] = migration.Target{Mode: migration.TargetModeNew}
	}
	return json.Marshal(map[string]any{
		"source":      w.Source,
		"requestedBy": "ops:bench",
		"agreement":   migration.OpsAgreement{Version: migration.CurrentAgreement().Version, AcceptedBy: w.Login, Evidence: "bench"},
		"targets":     targets,
		"confirm":     true,
	})
}
