package migration

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParseSnapshot: ParseSnapshot never panics, and whatever it accepts is a
// snapshot Validate agrees with and that Place can split without losing an
// item: every item has a holder and exactly one of a batch or a skip reason.
func FuzzParseSnapshot(f *testing.F) {
	f.Add([]byte(validSnapshotJSON))
	if raw, err := os.ReadFile("testdata/contract-example.json"); err == nil {
		f.Add(raw)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"subjects":[{"id":"s","name":"n","kind":"person","certified":false}],"accounts":[{"platform":"microapp","id":"a","login":"l"}]}`))
	f.Add([]byte(`{"version":1} }`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := ParseSnapshot(bytes.NewReader(data))
		if err != nil {
			if snap != nil {
				t.Fatalf("refused snapshot returned alongside error %v", err)
			}
			if ErrorCode(err) != CodeInvalidInput {
				t.Fatalf("refusal must be INVALID_INPUT, got %v", err)
			}
			return
		}
		if err := snap.Validate(); err != nil {
			t.Fatalf("accepted snapshot fails Validate: %v", err)
		}
		items := Place(snap)
		want := len(snap.Apps) + len(snap.Services) + len(snap.Identities) + len(snap.Members) + len(snap.Data) + len(snap.Orders)
		if len(items) != want {
			t.Fatalf("Place returned %d items for %d records", len(items), want)
		}
		seen := map[string]bool{}
		for _, it := range items {
			if it.Holder == "" {
				t.Fatalf("item %s has no holder", it.Key())
			}
			if (it.BatchKey == "") == (it.Skip == "") {
				t.Fatalf("item %s: batchKey %q, skip %q: want exactly one", it.Key(), it.BatchKey, it.Skip)
			}
			if it.BatchKey != "" {
				if _, _, ok := ParseBatchKey(it.BatchKey); !ok {
					t.Fatalf("item %s has unparsable batch key %q", it.Key(), it.BatchKey)
				}
			}
			if seen[it.Key()] {
				t.Fatalf("item %s placed twice", it.Key())
			}
			seen[it.Key()] = true
		}
	})
}
