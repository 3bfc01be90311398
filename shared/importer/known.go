package importer

import (
	"context"
	"strings"

	"github.com/devplatform/account-migration/shared/migration"
)

// inputKnown is what the input itself says, kept compact: a subject's
// certification, an account's subject, an asset's record (apps and services
// only: what placement needs, without its name; data, orders and members
// are not kept). The ids it repeats (subjects, accounts, platforms, kinds)
// are kept once each.
type inputKnown struct {
	subjects map[string]bool
	accounts map[string]string
	assets   map[string]inputAsset
	names    map[string]string
}

// inputAsset is an app or service of the input, as placement needs it.
type inputAsset struct {
	app     *migration.App
	service *migration.Service
}

func (a inputAsset) record() migration.Record {
	if a.app != nil {
		return migration.Record{Type: migration.RecApp, App: *a.app}
	}
	return migration.Record{Type: migration.RecService, Service: *a.service}
}

func newInputKnown() *inputKnown {
	return &inputKnown{subjects: map[string]bool{}, accounts: map[string]string{}, assets: map[string]inputAsset{}, names: map[string]string{}}
}

// once is s, shared with every other use of the same id.
func (k *inputKnown) once(s string) string {
	if v, ok := k.names[s]; ok {
		return v
	}
	s = strings.Clone(s) // not a slice of a larger decoded buffer
	k.names[s] = s
	return s
}

func (k *inputKnown) add(rec migration.Record) {
	switch rec.Type {
	case migration.RecSubject:
		k.subjects[k.once(rec.Subject.ID)] = rec.Subject.Certified
	case migration.RecAccount:
		k.accounts[k.once(migration.SourceHolder(rec.Account.Platform, rec.Account.ID))] = k.once(rec.Account.SubjectID)
	case migration.RecApp:
		a := rec.App
		app := &migration.App{ID: strings.Clone(a.ID), Platform: migration.SourcePlatform(k.once(string(a.Platform))), Kind: migration.AppKind(k.once(string(a.Kind))),
			CreatorAccountID: k.once(a.CreatorAccountID), SubjectID: k.once(a.SubjectID), Certified: a.Certified}
		k.assets[app.ID] = inputAsset{app: app}
	case migration.RecService:
		v := rec.Service
		svc := &migration.Service{ID: strings.Clone(v.ID), Platform: migration.SourcePlatform(k.once(string(v.Platform))),
			OwnerAccountID: k.once(v.OwnerAccountID), SubjectID: k.once(v.SubjectID), Certified: v.Certified}
		k.assets[svc.ID] = inputAsset{service: svc}
	}
}

// known answers from the input first, then from what the table said. An
// asset of the input is placed from the input (the write phase reads an
// asset the table holds again, as it is then).
type known struct {
	r      *run
	placed map[string]migration.Item
}

func (r *run) known() *known { return &known{r: r, placed: map[string]migration.Item{}} }

func (k *known) Subject(id string) (bool, bool) {
	if c, ok := k.r.in.subjects[id]; ok {
		return c, true
	}
	c, ok := k.r.table.Subjects[id]
	return c, ok
}

func (k *known) AccountSubject(holder string) (string, bool) {
	if s, ok := k.r.in.accounts[holder]; ok {
		return s, true
	}
	s, ok := k.r.table.Accounts[holder]
	return s, ok
}

func (k *known) Asset(id string) (migration.Item, bool) {
	if it, ok := k.placed[id]; ok {
		return it, true
	}
	if rec, ok := k.r.in.assets[id]; ok {
		it, _ := migration.PlaceRecord(rec.record(), k)
		k.placed[id] = it
		return it, true
	}
	it, ok := k.r.table.Assets[id]
	return it, ok
}

// remember keeps what the table answered (and that it was asked).
func (r *run) remember(refs []migration.Ref, res Resolved) {
	if r.asked == nil {
		r.asked = map[migration.Ref]bool{}
	}
	if r.table.Subjects == nil {
		r.table = Resolved{Subjects: map[string]bool{}, Accounts: map[string]string{}, Assets: map[string]migration.Item{}}
	}
	for _, ref := range refs {
		r.asked[ref] = true
	}
	for k, v := range res.Subjects {
		r.table.Subjects[k] = v
	}
	for k, v := range res.Accounts {
		r.table.Accounts[k] = v
	}
	for k, v := range res.Assets {
		r.table.Assets[k] = v
	}
}

// levels order the writes: what others refer to first.
var levels = [][]migration.RecordType{
	{migration.RecSubject, migration.RecAccount, migration.RecTarget},
	{migration.RecApp, migration.RecService, migration.RecIdentity},
	{migration.RecMember, migration.RecData, migration.RecOrder},
}

// write adds what pass 2 found new, level by level, a chunk at a time.
func (r *run) write(ctx context.Context) error {
	var done int64
	chunks := 0
	passes := levels
	if r.ordered {
		// Parents come first in the input already: one pass.
		passes = [][]migration.RecordType{append(append(append([]migration.RecordType{}, levels[0]...), levels[1]...), levels[2]...)}
	}
	for _, level := range passes {
		in := typeSet(level)
		keep := func(seq int64, rec migration.Record, bad error) bool {
			if bad != nil || !in[rec.Type] {
				return false
			}
			if r.existing.has(seq) || r.dups.has(seq) {
				done++ // nothing to write: done already
				return false
			}
			return true
		}
		flush := func(chunk []migration.Record, _ []int64) error {
			if r.opt.StopAfter > 0 && chunks >= r.opt.StopAfter {
				return ErrStopped
			}
			w, err := r.t.Write(ctx, chunk, r.known())
			chunks++
			r.count(w)
			done += int64(len(chunk))
			r.progress(PhaseWrite, done)
			return err
		}
		if err := inChunks(ctx, r.src, r.opt.WriteChunk, keep, flush); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) count(w Written) {
	for list, n := range w.Added {
		r.sum.of(list).Added += n
		r.sum.Added += n
	}
	for list, n := range w.Unchanged {
		r.sum.of(list).Unchanged += n
		r.sum.Unchanged += n
	}
	for list, n := range w.Changed {
		r.sum.of(list).Changed += n
	}
}
