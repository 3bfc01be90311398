// Package importer loads old-platform records (docs/CONTRACT.md §4) into a
// live table: it reads a snapshot or JSON Lines as a stream, checks the
// whole input before it writes anything, and writes only what is new, so the
// same input imported again changes nothing. The rules of each record live
// in shared/migration (CheckRecord, CheckRefs, PlaceRecord); the table side
// is a Table (shared/dynamostore); opsctl and the import function only wire.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/devplatform/account-migration/shared/migration"
)

// Source gives the input's records in order, each time Each is called (the
// import reads its input more than once, never all of it at a time). A
// record that could not be decoded comes with its problem, to be refused.
type Source interface {
	Each(ctx context.Context, fn func(r migration.Record, bad error) error) error
}

// SnapshotSource is an in-memory snapshot as a source (make run SEED=, tests).
type SnapshotSource struct{ Snap *migration.Snapshot }

func (s SnapshotSource) Each(ctx context.Context, fn func(migration.Record, error) error) error {
	if s.Snap.Version != 1 {
		return migration.Errorf(migration.CodeInvalidInput, "snapshot version must be 1, not %d", s.Snap.Version)
	}
	for _, r := range s.Snap.Records() {
		if err := fn(r, nil); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// FileSource reads a file in either form: a snapshot (one JSON object with
// "version" and the record lists) or JSON Lines (one record a line, each
// with its "type"). The form is told by the first key of the first object.
type FileSource struct{ Path string }

func (f FileSource) Each(ctx context.Context, fn func(migration.Record, error) error) error {
	file, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer file.Close()
	return ReadRecords(ctx, file, "", fn)
}

// snapshotKeys are the top-level keys of the snapshot form.
var snapshotKeys = map[string]bool{"version": true}

func init() {
	for _, rt := range migration.RecordTypes {
		snapshotKeys[rt.List] = true
	}
}

// ReadRecords streams the records of r in either form; name prefixes each
// record's place ("s3://bucket/key ").
func ReadRecords(ctx context.Context, r io.Reader, name string, fn func(migration.Record, error) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(4096)
	if isSnapshot(head) {
		return readSnapshot(ctx, br, name, fn)
	}
	return readLines(ctx, br, name, fn)
}

// isSnapshot tells the snapshot form from JSON Lines by the first key.
func isSnapshot(head []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	tok, err := dec.Token()
	k, ok := tok.(string)
	return err == nil && ok && snapshotKeys[k]
}

// maxLine bounds one JSON Lines record.
const maxLine = 1 << 20

func readLines(ctx context.Context, br *bufio.Reader, name string, fn func(migration.Record, error) error) error {
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: read it whole, up to maxLine.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxLine {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
			if len(long) > maxLine {
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
				if ferr := fn(migration.Record{At: fmt.Sprintf("%sline %d", name, n), Line: n}, fmt.Errorf("longer than %d bytes", maxLine)); ferr != nil {
					return ferr
				}
				line = nil
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			decode := migration.DecodeLine
			if checked(ctx) {
				decode = migration.DecodeCheckedLine
			}
			rec, derr := decode(t)
			rec.Line = n
			rec.At = fmt.Sprintf("%sline %d", name, n)
			if ferr := fn(rec, derr); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// readSnapshot walks the snapshot form's lists one record at a time.
func readSnapshot(ctx context.Context, r io.Reader, name string, fn func(migration.Record, error) error) error {
	lc := &lineCounter{r: r}
	dec := json.NewDecoder(lc)
	bad := func(format string, args ...any) error {
		return migration.Errorf(migration.CodeInvalidInput, "%ssnapshot is not valid at line %d: %s", name, lc.lineAt(dec.InputOffset()), fmt.Sprintf(format, args...))
	}
	if _, err := dec.Token(); err != nil {
		return bad("%v", err)
	}
	seenKeys := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("%v", err)
		}
		k, _ := tok.(string)
		if seenKeys[k] {
			return bad("%q appears twice", k)
		}
		seenKeys[k] = true
		if k == "version" {
			var v int
			if err := dec.Decode(&v); err != nil || v != 1 {
				return bad("version must be 1")
			}
			continue
		}
		t := migration.TypeOfList(k)
		if t == "" {
			return bad("unknown field %q", k)
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			if tok == nil && err == nil {
				continue // "apps": null
			}
			return bad("%q must be a list", k)
		}
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return bad("%s[%d]: %v", k, i, err)
			}
			line := lc.lineAt(dec.InputOffset() - int64(len(raw)))
			decode := migration.DecodeRecord
			if checked(ctx) {
				decode = migration.DecodeCheckedRecord
			}
			rec, derr := decode(t, raw)
			rec.Type, rec.Line = t, line
			rec.At = fmt.Sprintf("%s%s[%d]", name, k, i)
			if err := fn(rec, derr); err != nil {
				return err
			}
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad("%v", err)
		}
	}
	if !seenKeys["version"] {
		return migration.Errorf(migration.CodeInvalidInput, "%ssnapshot has no version (must be 1)", name)
	}
	return nil
}

// lineCounter tells the line of an offset the decoder has read up to. It
// keeps only the newlines the decoder has read ahead of what was asked, so
// its memory stays flat whatever the input's size.
type lineCounter struct {
	r      io.Reader
	read   int64   // bytes handed to the decoder
	passed int     // newlines before the first kept offset
	ahead  []int64 // offsets of newlines not yet passed, ascending
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			l.ahead = append(l.ahead, l.read+int64(i))
		}
	}
	l.read += int64(n)
	return n, err
}

// lineAt is the 1-based line of offset; offsets asked must not decrease much
// (a record's start is before the decoder's position, never before the last
// record's).
func (l *lineCounter) lineAt(offset int64) int {
	i := 0
	for i < len(l.ahead) && l.ahead[i] < offset {
		i++
	}
	l.passed += i
	l.ahead = l.ahead[i:]
	return l.passed + 1
}

type checkedKey struct{}

// Checked marks a pass over input that an earlier pass decoded strictly:
// sources may decode it without the strict walk (a record that failed it
// is skipped by the run either way).
func Checked(ctx context.Context) context.Context { return context.WithValue(ctx, checkedKey{}, true) }

func checked(ctx context.Context) bool { v, _ := ctx.Value(checkedKey{}).(bool); return v }

// inChunks is a later pass over src (Checked): the records keep takes, given
// each with its 1-based position in the input, go to flush in chunks of size,
// the last one shorter. flush may keep neither slice: both are reused.
func inChunks(ctx context.Context, src Source, size int, keep func(seq int64, rec migration.Record, bad error) bool,
	flush func(chunk []migration.Record, seqs []int64) error) error {
	var seq int64
	var chunk []migration.Record
	var seqs []int64
	send := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := flush(chunk, seqs)
		chunk, seqs = chunk[:0], seqs[:0]
		return err
	}
	err := src.Each(Checked(ctx), func(rec migration.Record, bad error) error {
		seq++
		if !keep(seq, rec, bad) {
			return nil
		}
		chunk, seqs = append(chunk, rec), append(seqs, seq)
		if len(chunk) >= size {
			return send()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return send()
}

// typeSet is the set of the types given.
func typeSet(types []migration.RecordType) map[migration.RecordType]bool {
	in := make(map[migration.RecordType]bool, len(types))
	for _, t := range types {
		in[t] = true
	}
	return in
}
