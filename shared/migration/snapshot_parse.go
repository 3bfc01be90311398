package migration

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/devplatform/account-migration/shared/strictjson"
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
	if err := strictjson.Decode(raw, &outline); err != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "snapshot is not valid: " + strictjson.Problem(err), Err: err}
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
				return nil, &Error{Code: CodeInvalidInput, Message: fmt.Sprintf("%s[%d]: %s", part.name, i, strictjson.Problem(err)), Err: err}
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
		if err := strictjson.Decode(raw, &v); err != nil {
			return err
		}
		*list = append(*list, v)
		return nil
	}
}

// Validate checks every record and every reference between records, each
// record by the rules an import applies to it (CheckRecord, CheckRefs); the
// first problem is the error.
func (s *Snapshot) Validate() error {
	if s.Version != 1 {
		return Errorf(CodeInvalidInput, "snapshot version must be 1, not %d", s.Version)
	}
	recs := s.Records()
	k := newSnapshotKnown(recs)
	seen := make(map[string]bool, len(recs))
	for _, r := range recs {
		if err := CheckRecord(r); err != nil {
			return err
		}
		if seen[r.Key()] {
			return Errorf(CodeInvalidInput, "%s: duplicate id", r.at())
		}
		seen[r.Key()] = true
		if err := CheckRefs(r, k); err != nil {
			return err
		}
	}
	return nil
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
