package importer

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/devplatform/account-migration/shared/migration"
)

// The import workflow (statemachine/import.asl.json) runs the same checks
// and writes as Run, one input object at a time, in separate invocations:
//
//  1. ScanPart, each object alone: each record alone and the object's ids
//     (Run's first pass), kept as the object's Facts;
//  2. Merge, once: the ids of every object (a record given twice in two
//     objects is refused like one given twice in a file) and the Index of
//     the input's subjects, accounts and assets;
//  3. CheckPart, each object: references against the Index and the table,
//     and each record against its row (Run's second pass);
//  4. WritePart, each object, one level after the other (parents first),
//     only when no object refused anything.
//
// What differs from Run: a record refused alone (step 1 or 2) stops the
// workflow before step 3, so references are reported once the records
// themselves are fixed; and each write re-reads the rows it writes (a record
// found there since the check is left as it is).

// MaxPartRecords bounds one object of the workflow: one invocation reads it
// whole within Lambda's 15 minutes (about 3 minutes at the rates measured in
// BENCHMARKS.md). A larger object is refused, named: split it.
const MaxPartRecords = 1_000_000

// keyLen is one record's entry in Facts.Keys: its key hash and its line.
const keyLen = 16 + 4

// Facts is what the scan of one object found: its records' keys (with their
// lines, for naming a duplicate), the facts placement needs, and what it
// refused.
type Facts struct {
	Object   string              `json:"object"`
	Records  int64               `json:"records"`
	Refusals []Refusal           `json:"refusals,omitempty"`
	Keys     []byte              `json:"keys"`
	Subjects map[string]bool     `json:"subjects,omitempty"`
	Accounts map[string]string   `json:"accounts,omitempty"`
	Apps     []migration.App     `json:"apps,omitempty"`
	Services []migration.Service `json:"services,omitempty"`
}

// Index is the whole input's subjects, accounts and assets: what a record of
// one object may refer to in another.
type Index struct {
	Records  int64               `json:"records"`
	Objects  int                 `json:"objects"`
	Subjects map[string]bool     `json:"subjects"`
	Accounts map[string]string   `json:"accounts"`
	Apps     []migration.App     `json:"apps,omitempty"`
	Services []migration.Service `json:"services,omitempty"`
}

func (ix *Index) known() *inputKnown {
	in := newInputKnown()
	for id, c := range ix.Subjects {
		in.subjects[id] = c
	}
	for h, s := range ix.Accounts {
		in.accounts[h] = s
	}
	for i := range ix.Apps {
		in.assets[ix.Apps[i].ID] = inputAsset{app: &ix.Apps[i]}
	}
	for i := range ix.Services {
		in.assets[ix.Services[i].ID] = inputAsset{service: &ix.Services[i]}
	}
	return in
}

// ScanPart checks each record of one object alone (Run's first pass).
func ScanPart(ctx context.Context, src Source, object string) (Facts, error) {
	f := Facts{Object: object}
	r := &run{src: src, in: newInputKnown(), first: map[keyID]int64{}, lines: &f.Keys}
	r.opt.Refused = func(rf Refusal) { f.Refusals = append(f.Refusals, rf) }
	if err := r.pass1(ctx); err != nil {
		return f, err
	}
	f.Records = r.total
	if f.Records > MaxPartRecords {
		f.Refusals = append(f.Refusals, Refusal{At: object, Problem: fmt.Sprintf("has %d records, more than one invocation reads (%d): split it into smaller objects", f.Records, MaxPartRecords)})
	}
	f.Subjects, f.Accounts = r.in.subjects, r.in.accounts
	for _, a := range r.in.assets {
		if a.app != nil {
			f.Apps = append(f.Apps, *a.app)
		} else {
			f.Services = append(f.Services, *a.service)
		}
	}
	return f, nil
}

// Merger gathers the objects' Facts, in key order, into the Index; a key
// given in two objects is refused at its second place, as Run refuses the
// second of two records of a file.
type Merger struct {
	ix       Index
	seen     map[keyID]uint32 // key -> object number
	objects  []string
	Refusals []Refusal
}

func NewMerger() *Merger {
	return &Merger{ix: Index{Subjects: map[string]bool{}, Accounts: map[string]string{}}, seen: map[keyID]uint32{}}
}

// Add takes one object's facts (objects in the order they were listed).
func (m *Merger) Add(f Facts) {
	n := uint32(len(m.objects))
	m.objects = append(m.objects, f.Object)
	m.ix.Objects++
	m.ix.Records += f.Records
	m.Refusals = append(m.Refusals, f.Refusals...)
	for i := 0; i+keyLen <= len(f.Keys); i += keyLen {
		var k keyID
		copy(k[:], f.Keys[i:i+16])
		if o, dup := m.seen[k]; dup {
			line := int(binary.BigEndian.Uint32(f.Keys[i+16 : i+keyLen]))
			m.Refusals = append(m.Refusals, Refusal{At: fmt.Sprintf("%sline %d", objectName(f.Object), line), Line: line,
				Problem: "duplicate id: given twice in the input (first in " + m.objects[o] + ")"})
			continue
		}
		m.seen[k] = n
	}
	for id, c := range f.Subjects {
		m.ix.Subjects[id] = c
	}
	for h, s := range f.Accounts {
		m.ix.Accounts[h] = s
	}
	m.ix.Apps = append(m.ix.Apps, f.Apps...)
	m.ix.Services = append(m.ix.Services, f.Services...)
}

// Index is the merged input (valid once every object was added).
func (m *Merger) Index() Index { return m.ix }

// objectName is how a record of an object is named ("s3://b/k line 4").
func objectName(object string) string { return object + " " }

// CheckPart resolves the references of one object's records against the
// whole input (ix) and the table, and judges each against its row (Run's
// second pass). The summary counts what the write would add.
func CheckPart(ctx context.Context, src Source, ix *Index, t Table, opt Options) (Summary, error) {
	r := newPart(src, ix, t, opt)
	err := r.pass2(ctx)
	return r.sum, err
}

func newPart(src Source, ix *Index, t Table, opt Options) *run {
	if opt.Chunk <= 0 || opt.Chunk > 100 {
		opt.Chunk = 100
	}
	if opt.WriteChunk <= 0 {
		opt.WriteChunk = 500
	}
	return &run{src: src, t: t, opt: opt, in: ix.known(), part: true}
}

// Levels is how many write levels there are (parents first).
var Levels = len(levels)

// WritePart writes the records of one object at one level (0: subjects,
// accounts and target accounts; 1: apps, services and identities; 2:
// members, data and orders), each chunk judged again first: what is there
// already is left as it is. The workflow's summary is the check's: under the
// import lock, what the check found new is what the writes add. Call it only for an input every object of which
// passed CheckPart without a refusal, under the import lock.
func WritePart(ctx context.Context, src Source, ix *Index, t Table, level int, opt Options) (Summary, error) {
	r := newPart(src, ix, t, opt)
	if level < 0 || level >= len(levels) {
		return r.sum, fmt.Errorf("write level %d: there are %d", level, len(levels))
	}
	in := typeSet(levels[level])
	var done int64
	flush := func(chunk []migration.Record, _ []int64) error {
		k := r.known()
		if err := r.resolve(ctx, chunk, k, true); err != nil {
			return err
		}
		if err := r.resolve(ctx, chunk, k, false); err != nil {
			return err
		}
		judged, err := t.Judge(ctx, chunk)
		if err != nil {
			return err
		}
		var fresh []migration.Record
		for i, rec := range chunk {
			switch judged[i].Verdict {
			case Same:
				// There already: found so by the check, or written by an
				// earlier attempt of this part (a retried invocation).
			case Different:
				return migration.Errorf(migration.CodeConflict, "%s: %s since the check; run the import again", rec.Name(), judged[i].Problem)
			default:
				fresh = append(fresh, rec)
			}
		}
		if len(fresh) > 0 {
			w, err := t.Write(ctx, fresh, k)
			r.count(w)
			if err != nil {
				return err
			}
		}
		done += int64(len(chunk))
		r.progress(PhaseWrite, done)
		return nil
	}
	keep := func(_ int64, rec migration.Record, bad error) bool { return bad == nil && in[rec.Type] }
	err := inChunks(ctx, src, r.opt.WriteChunk, keep, flush)
	return r.sum, err // the sum the writes counted, read after them
}

// Add sums another part's summary into s.
func (s *Summary) Add(o Summary) {
	s.Added += o.Added
	s.Unchanged += o.Unchanged
	s.Refused += o.Refused
	lists := make([]string, 0, len(o.ByType))
	for l := range o.ByType {
		lists = append(lists, l)
	}
	sort.Strings(lists)
	for _, l := range lists {
		c, oc := s.of(l), o.ByType[l]
		c.Added += oc.Added
		c.Unchanged += oc.Unchanged
		c.Changed += oc.Changed
		c.Refused += oc.Refused
	}
}
