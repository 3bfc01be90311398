package migration

import (
	"sort"
)

// Place turns a validated snapshot into the items the migration knows, each
// held by its old-platform account and placed in that account's batch, or
// marked skipped with the reason. Role scope (rule 2), the split by subject
// (rules 3-5) and certification (rule 11) are decided record by record in
// PlaceRecord, the one place an import also places what it adds to a live
// table; the plan, the review and the commit all read what it decided.
func Place(snap *Snapshot) []Item {
	recs := snap.Records()
	k := newSnapshotKnown(recs)
	items := make([]Item, 0, len(recs))
	for _, t := range []RecordType{RecApp, RecService, RecIdentity, RecMember, RecData, RecOrder} {
		for _, r := range recs {
			if r.Type != t {
				continue
			}
			if it, ok := PlaceRecord(r, k); ok {
				items = append(items, it)
			}
		}
	}
	return items
}

// Counts is what one batch (or a plan) holds, by category of rule 7.
type Counts struct {
	Apps       int `json:"apps" dynamodbav:"apps"`
	Services   int `json:"services" dynamodbav:"services"`
	Identities int `json:"identities" dynamodbav:"identities"`
	Members    int `json:"members" dynamodbav:"members"`
	Data       int `json:"data" dynamodbav:"data"`
	Orders     int `json:"orders" dynamodbav:"orders"`
}

// PlannedBatch is one batch of the split, before a migration creates it.
type PlannedBatch struct {
	BatchKey       string         `json:"batchKey"`
	SubjectID      string         `json:"subjectId"`
	TargetPlatform TargetPlatform `json:"targetPlatform"`
	Counts         Counts         `json:"counts"`
	// Moves is how many items the commit writes: everything the batch holds.
	// Members that follow one of the batch's apps are counted in Counts for the
	// review but are not written: the relation moves with its collaborator.
	Moves        int `json:"-"`
	MiniPrograms int `json:"-"`
}

// Probe sizes: a subject holds at most 10 mini-programs, so a batch with more
// is refused whatever its probe says; a few others tell an emptied batch.
const (
	maxProbedMini = 100
	probedOthers  = 25
)

// Skipped is an item that stays on the old platform, with the reason.
type Skipped struct {
	ID     string     `json:"id"`
	Type   ItemType   `json:"type"`
	Name   string     `json:"name,omitempty"` // an app's or service's name
	Reason SkipReason `json:"reason"`
}

// Plan is an account's split: the batches it would migrate.
type Plan struct {
	Eligible bool           `json:"eligible"`
	Reason   Code           `json:"reason,omitempty"`
	Batches  []PlannedBatch `json:"batches"`
	Skipped  []Skipped      `json:"-"`
	// Probes is, per batch key, what the point of no return reads again,
	// consistently: every mini-program (up to maxProbedMini) and a few others.
	Probes map[string][]string `json:"-"`
}

// Tally folds one account's placed items (held) and the relations on its apps
// (followers) into its plan. An account whose plan has no batch needs no
// migration (rule 1).
func Tally(held, followers []Item) Plan {
	byKey := map[string]*PlannedBatch{}
	batch := func(key string) *PlannedBatch {
		if b, ok := byKey[key]; ok {
			return b
		}
		subjectID, p, _ := ParseBatchKey(key)
		b := &PlannedBatch{BatchKey: key, SubjectID: subjectID, TargetPlatform: p}
		byKey[key] = b
		return b
	}
	plan := Plan{Batches: []PlannedBatch{}}
	for _, it := range held {
		if it.Skip != "" {
			plan.Skipped = append(plan.Skipped, Skipped{ID: it.ID, Type: it.Type, Reason: it.Skip})
			continue
		}
		if it.BatchKey == "" {
			continue
		}
		b := batch(it.BatchKey)
		plan.probe(b, it)
		b.Moves++
		switch it.Type {
		case ItemApp:
			b.Counts.Apps++
			if it.IsMiniProgram() {
				b.MiniPrograms++
			}
		case ItemService:
			b.Counts.Services++
		case ItemIdentity:
			b.Counts.Identities++
		case ItemMember:
			b.Counts.Members++
		case ItemData:
			b.Counts.Data++
		case ItemOrder:
			b.Counts.Orders++
		}
	}
	for _, it := range followers {
		if it.AppBatchKey != "" {
			if b, ok := byKey[it.AppBatchKey]; ok {
				b.Counts.Members++
			}
		}
	}
	for _, b := range byKey {
		plan.Batches = append(plan.Batches, *b)
	}
	sort.Slice(plan.Batches, func(i, j int) bool { return plan.Batches[i].BatchKey < plan.Batches[j].BatchKey })
	plan.Eligible = len(plan.Batches) > 0
	if !plan.Eligible {
		plan.Reason = CodeNoMigrationNeeded
	}
	return plan
}

// probe adds the item to what the commit reads again (Plan.Probes).
func (p *Plan) probe(b *PlannedBatch, it Item) {
	if p.Probes == nil {
		p.Probes = map[string][]string{}
	}
	probe := p.Probes[b.BatchKey]
	if it.IsMiniProgram() && b.MiniPrograms < maxProbedMini || !it.IsMiniProgram() && len(probe)-b.MiniPrograms < probedOthers {
		p.Probes[b.BatchKey] = append(probe, it.Key())
	}
}

// Select keeps the batches named in keys (all when keys is empty). An unknown
// key is refused rather than ignored: the caller asked for something that is
// not theirs to migrate.
func (p Plan) Select(keys []string) ([]PlannedBatch, error) {
	if len(keys) == 0 {
		return p.Batches, nil
	}
	byKey := make(map[string]PlannedBatch, len(p.Batches))
	for _, b := range p.Batches {
		byKey[b.BatchKey] = b
	}
	seen := map[string]bool{}
	out := make([]PlannedBatch, 0, len(keys))
	for _, k := range keys {
		b, ok := byKey[k]
		if !ok {
			return nil, Errorf(CodeUnknownBatch, "batch %q is not in this account's plan", Echo(k))
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, b)
		}
	}
	return out, nil
}
