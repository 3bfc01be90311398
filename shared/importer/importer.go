package importer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"time"

	"github.com/devplatform/account-migration/shared/migration"
)

// Verdict is how a record compares with what the table holds.
type Verdict int

const (
	New       Verdict = iota // not in the table: it is added
	Same                     // there with the same content: left as it is
	Forward                  // a target account whose onboarding moves forward or whose mini-programs changed
	Different                // there with other content: refused
)

// Judged is a record's verdict, with the problem of a Different one.
type Judged struct {
	Verdict Verdict
	Problem string
}

// Resolved is what the table holds of the references an input makes.
type Resolved struct {
	Subjects map[string]bool           // id -> certified
	Accounts map[string]string         // source holder -> the account's subject
	Assets   map[string]migration.Item // app or service id -> the item as it is now
}

// Written counts what one Write did, by snapshot list ("apps").
type Written struct {
	Added, Unchanged, Changed map[string]int
}

// Table is the table side of an import (shared/dynamostore).
type Table interface {
	// Resolve reads, consistently, the subjects, accounts and assets refs
	// name; what is absent is left out.
	Resolve(ctx context.Context, refs []migration.Ref) (Resolved, error)
	// Judge compares each record with the row it would write.
	Judge(ctx context.Context, recs []migration.Record) ([]Judged, error)
	// Write adds the records (none of them Same when judged), each only if
	// still absent, placing items where their asset is now: an item under a
	// waiting batch joins it, one under a batch past its point of no return
	// waits for a later migration, one of a moved asset follows it. A record
	// that appeared since with other content stops it with an error naming
	// the record.
	Write(ctx context.Context, recs []migration.Record, k migration.Known) (Written, error)
	// Lock makes owner the one import that writes to the table, from before
	// the check until unlock, waiting (and saying so) while another holds it.
	Lock(ctx context.Context, owner string, waiting func(holder string, until time.Time)) (unlock func(), err error)
}

// Counts is one record type's line of the summary.
type Counts struct {
	Added     int `json:"added"`
	Unchanged int `json:"unchanged"`
	Changed   int `json:"changed,omitempty"`
	Refused   int `json:"refused"`
}

// Summary is what an import did (or, with DryRun, would do): the JSON
// opsctl prints. Changed (allowed changes of target accounts) is counted in
// byType only; the top-level names are the contract's.
type Summary struct {
	Added     int                `json:"added"`
	Unchanged int                `json:"unchanged"`
	Refused   int                `json:"refused"`
	ByType    map[string]*Counts `json:"byType"`
	DryRun    bool               `json:"dryRun,omitempty"`
}

func (s *Summary) of(list string) *Counts {
	if s.ByType == nil {
		s.ByType = map[string]*Counts{}
	}
	c := s.ByType[list]
	if c == nil {
		c = &Counts{}
		s.ByType[list] = c
	}
	return c
}

// Refusal names one refused record and why.
type Refusal struct {
	At      string `json:"at"`
	Line    int    `json:"line,omitempty"`
	Problem string `json:"problem"`
	// Conflict: the record exists in the table with other content (the
	// rest are bad input).
	Conflict bool `json:"-"`
}

func (r Refusal) String() string {
	if r.Line > 0 && !strings.HasPrefix(r.At, "line ") && !strings.Contains(r.At, " line ") {
		return fmt.Sprintf("%s, line %d: %s", r.At, r.Line, r.Problem)
	}
	return r.At + ": " + r.Problem
}

// Phase is the part of the run progress reports on.
type Phase string

const (
	PhaseCheck Phase = "check"
	PhaseWrite Phase = "write"
)

// Options of a run.
type Options struct {
	DryRun bool
	// Refused sees each refused record as it is found.
	Refused func(Refusal)
	// Progress sees how many records of the phase are done, of total (total
	// is 0 while the first pass is still counting).
	Progress func(p Phase, done, total int64)
	// Chunk is how many records the check reads at a time (default 100:
	// one BatchGetItem); WriteChunk how many a write takes (default 500:
	// one read of what they depend on, then 25 a BatchWriteItem call).
	Chunk, WriteChunk int
	// StopAfter ends the write phase after that many chunks (tests: an
	// import killed half-way); 0 is never.
	StopAfter int
	// Owner names this import in the table's import lock (default: host,
	// process and time); Waiting hears about another import holding it.
	Owner   string
	Waiting func(holder string, until time.Time)
}

// ErrStopped is the run ended by Options.StopAfter.
var ErrStopped = errors.New("import stopped before it finished (StopAfter)")

// ErrRefused says the input was refused: nothing was written.
var ErrRefused = errors.New("records refused: nothing was written")

// Run imports src into t: it checks everything first (pass 1: each record
// alone and the input's ids; pass 2: references against the input and the
// table, and each record against its row), writes nothing when a record is
// refused (ErrRefused), and otherwise writes what is new, parents before
// what belongs to them (three passes: subjects, accounts and target
// accounts; apps, services and identities; members, data and orders). What
// it keeps in memory is the input's ids and the few facts placement needs
// (a subject's certification, an account's subject, an asset's place), never
// the records themselves.
func Run(ctx context.Context, src Source, t Table, opt Options) (Summary, error) {
	if opt.Chunk <= 0 || opt.Chunk > 100 {
		opt.Chunk = 100
	}
	if opt.WriteChunk <= 0 {
		opt.WriteChunk = 500
	}
	r := &run{src: src, t: t, opt: opt, in: newInputKnown(), first: map[keyID]int64{}, ordered: true}
	r.sum.DryRun = opt.DryRun
	if err := r.pass1(ctx); err != nil {
		return r.sum, err
	}
	if !opt.DryRun {
		// What the check finds absent stays absent until it is written: no
		// other import writes meanwhile.
		if opt.Owner == "" {
			host, _ := os.Hostname()
			opt.Owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), time.Now().UTC().Format(time.RFC3339Nano))
		}
		unlock, err := t.Lock(ctx, opt.Owner, opt.Waiting)
		if err != nil {
			return r.sum, err
		}
		defer unlock()
	}
	if err := r.pass2(ctx); err != nil {
		return r.sum, err
	}
	if r.sum.Refused > 0 {
		return r.sum, ErrRefused
	}
	if opt.DryRun {
		return r.sum, nil
	}
	r.sum.Added = 0
	for _, c := range r.sum.ByType {
		c.Added, c.Changed = 0, 0
	}
	return r.sum, r.write(ctx)
}

type run struct {
	src   Source
	t     Table
	opt   Options
	sum   Summary
	in    *inputKnown
	table Resolved
	// first is the sequence number of each subject, account, app and
	// service of the input (what records refer to: the write order needs
	// it). Keys are kept as 128-bit hashes (a collision among 10^9 keys has
	// odds below 10^-20).
	first map[keyID]int64
	// keys finds the records that repeat an earlier record's key (pass 1,
	// on disk past a bound); dups are those records, refused in pass 2.
	keys dupFinder
	dups seqSet
	// existing: the records already in the table with the same content.
	existing seqSet
	asked    map[migration.Ref]bool
	total    int64
	// ordered: every record of the input comes after the input's records
	// it refers to, so one write pass keeps parents first.
	ordered bool
	// part: one object of the workflow's input, whose scan refused nothing
	// (no duplicates to skip; the input's facts come from its Index).
	part bool
	// lines, when set, gathers each record's key hash and line (ScanPart).
	lines *[]byte
}

func (r *run) refuse(rec migration.Record, problem string, conflict bool) {
	r.sum.Refused++
	at := rec.At
	if rec.Type != "" {
		r.sum.of(migration.ListOf(rec.Type)).Refused++
		at = rec.Name()
	}
	if r.opt.Refused != nil {
		r.opt.Refused(Refusal{At: at, Line: rec.Line, Problem: strings.TrimPrefix(problem, at+": "), Conflict: conflict})
	}
}

func (r *run) progress(p Phase, done int64) {
	if r.opt.Progress != nil {
		r.opt.Progress(p, done, r.total)
	}
}

// problem is an error's message without the record's name when the domain
// already put it first.
func problem(err error) string {
	var me *migration.Error
	if errors.As(err, &me) {
		return me.Message
	}
	return err.Error()
}

// pass1 checks each record alone and gathers the input's ids and facts.
func (r *run) pass1(ctx context.Context) error {
	var seq int64
	err := r.src.Each(ctx, func(rec migration.Record, bad error) error {
		seq++
		if seq%1000 == 0 {
			r.progress(PhaseCheck, seq/2)
		}
		if bad != nil {
			r.refuse(migration.Record{At: rec.At, Line: rec.Line}, bad.Error(), false)
			return nil
		}
		if err := migration.CheckRecord(rec); err != nil {
			r.refuse(rec, problem(err), false)
			return nil
		}
		k := idOf(rec.Key())
		if r.lines != nil {
			// ScanPart: the workflow finds duplicates across objects.
			*r.lines = binary.BigEndian.AppendUint32(append(*r.lines, k[:]...), uint32(rec.Line))
		} else if err := r.keys.add(k, seq); err != nil {
			return err
		}
		if _, seen := r.first[k]; !seen && isParent(rec.Type) {
			r.first[k] = seq
			r.in.add(rec)
		}
		return nil
	})
	r.total = seq
	if err != nil {
		return err
	}
	r.dups, err = r.keys.dups()
	return err
}

// isParent: records other records refer to.
func isParent(t migration.RecordType) bool {
	switch t {
	case migration.RecSubject, migration.RecAccount, migration.RecApp, migration.RecService:
		return true
	}
	return false
}

// pass2 resolves references and judges each record against the table, a
// chunk at a time.
func (r *run) pass2(ctx context.Context) error {
	var read int64 // how far the pass has read, for its progress
	keep := func(seq int64, rec migration.Record, bad error) bool {
		read = seq
		if bad != nil || migration.CheckRecord(rec) != nil {
			return false // refused in pass 1
		}
		if r.dups.has(seq) {
			r.refuse(rec, "duplicate id: given twice in the input", false)
			return false
		}
		return true
	}
	flush := func(chunk []migration.Record, seqs []int64) error {
		err := r.checkChunk(ctx, chunk, seqs)
		r.progress(PhaseCheck, r.total/2+read/2)
		return err
	}
	if err := inChunks(ctx, r.src, r.opt.Chunk, keep, flush); err != nil {
		return err
	}
	r.progress(PhaseCheck, r.total)
	return nil
}

func (r *run) checkChunk(ctx context.Context, chunk []migration.Record, seqs []int64) error {
	k := r.known()
	// Assets first: a member's account is on its app's platform.
	if err := r.resolve(ctx, chunk, k, true); err != nil {
		return err
	}
	if err := r.resolve(ctx, chunk, k, false); err != nil {
		return err
	}
	var valid []migration.Record
	var validSeqs []int64
	for i, rec := range chunk {
		r.checkOrder(rec, seqs[i], k)
		if err := migration.CheckRefs(rec, k); err != nil {
			r.refuse(rec, problem(err), false)
			continue
		}
		valid, validSeqs = append(valid, rec), append(validSeqs, seqs[i])
	}
	if len(valid) == 0 {
		return nil
	}
	judged, err := r.t.Judge(ctx, valid)
	if err != nil {
		return err
	}
	for i, rec := range valid {
		c := r.sum.of(migration.ListOf(rec.Type))
		switch judged[i].Verdict {
		case New:
			c.Added++
			r.sum.Added++
		case Same:
			c.Unchanged++
			r.sum.Unchanged++
			r.existing.add(validSeqs[i])
		case Forward:
			c.Changed++
		case Different:
			r.refuse(rec, judged[i].Problem, true)
		}
	}
	return nil
}

// resolve asks the table for the references of chunk the input does not
// answer (assets only, or the rest).
func (r *run) resolve(ctx context.Context, chunk []migration.Record, k migration.Known, assets bool) error {
	var refs []migration.Ref
	seen := map[migration.Ref]bool{}
	for _, rec := range chunk {
		var app *migration.Item
		if rec.Type == migration.RecMember {
			if it, ok := k.Asset(rec.Member.AssetID); ok {
				app = &it
			}
		}
		for _, ref := range rec.Refs(app) {
			if (ref.Kind == "asset") != assets || seen[ref] || r.answers(ref, k) {
				continue
			}
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	res, err := r.t.Resolve(ctx, refs)
	if err != nil {
		return err
	}
	r.remember(refs, res)
	return nil
}

// answers reports a reference that needs no table read: the input has it,
// or the table was asked already (found or not).
func (r *run) answers(ref migration.Ref, k migration.Known) bool {
	if r.asked[ref] {
		return true
	}
	switch ref.Kind {
	case "subject":
		_, ok := k.Subject(ref.ID)
		return ok
	case "account":
		_, ok := k.AccountSubject(ref.ID)
		return ok
	case "asset":
		_, ok := k.Asset(ref.ID)
		return ok
	}
	return false
}

// checkOrder notes a record that refers to an input record given after it.
func (r *run) checkOrder(rec migration.Record, self int64, k migration.Known) {
	if !r.ordered || r.part {
		return
	}
	var app *migration.Item
	if rec.Type == migration.RecMember {
		if it, ok := k.Asset(rec.Member.AssetID); ok {
			app = &it
		}
	}
	for _, ref := range rec.Refs(app) {
		key := map[string]string{"subject": "subject#", "account": "account#", "asset": "asset#"}[ref.Kind] + ref.ID
		if seq, ok := r.first[idOf(key)]; ok && seq > self {
			r.ordered = false
			return
		}
	}
}

// keyID is a record key's FNV-128a hash.
type keyID [16]byte

func idOf(key string) keyID {
	h := fnv.New128a()
	_, _ = h.Write([]byte(key))
	var id keyID
	h.Sum(id[:0])
	return id
}
