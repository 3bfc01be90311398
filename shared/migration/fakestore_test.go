package migration

import (
	"context"
	"sync"
)

// fakeStore keeps migrations, their batches, the accounts' claims and the
// audit trail in memory, with the conditions the rules rely on (a claim is
// released only while its migration holds it; a migration ends once). It is
// for the rules' unit tests only: that DynamoDB keeps those conditions under
// races and retries is proven against moto in shared/dynamostore. Any other
// Store method reaches the embedded nil interface and panics, so a test that
// strays from the roles it fakes fails loudly.
type fakeStore struct {
	Store

	mu         sync.Mutex
	migrations map[string]Migration
	batches    map[string][]Batch
	claims     map[AccountRef]string // account -> the migration that holds it
	audit      []AuditEvent
	ends       int // EndMigration writes that changed something
}

func newFakeStore() *fakeStore {
	return &fakeStore{migrations: map[string]Migration{}, batches: map[string][]Batch{}, claims: map[AccountRef]string{}}
}

// put adds a migration with batches in the given states, holding its claim.
func (f *fakeStore) put(m Migration, states ...BatchState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.migrations[m.MigrationID] = m
	f.claims[m.Source] = m.MigrationID
	for i, st := range states {
		f.batches[m.MigrationID] = append(f.batches[m.MigrationID], Batch{MigrationID: m.MigrationID, BatchID: string(rune('a' + i)), State: st, Source: m.Source})
	}
}

func (f *fakeStore) Migration(_ context.Context, id string) (Migration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.migrations[id]
	if !ok {
		return Migration{}, Errorf(CodeNotFound, "no migration %s", id)
	}
	return m, nil
}

func (f *fakeStore) Batches(_ context.Context, id string) ([]Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Batch(nil), f.batches[id]...), nil
}

func (f *fakeStore) ReleaseActive(_ context.Context, src AccountRef, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claims[src] == id {
		delete(f.claims, src)
	}
	return nil
}

func (f *fakeStore) EndMigration(_ context.Context, src AccountRef, id string, ev AuditEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.migrations[id]
	if !ok || m.Summarized {
		return nil // ended already: the condition fails, nothing is written
	}
	m.Summarized = true
	f.migrations[id] = m
	if f.claims[src] == id {
		delete(f.claims, src)
	}
	f.audit = append(f.audit, ev)
	f.ends++
	return nil
}

func (f *fakeStore) ReleaseClaim(_ context.Context, src AccountRef, id string, ev AuditEvent) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claims[src] != id {
		return false, nil
	}
	delete(f.claims, src)
	f.audit = append(f.audit, ev)
	return true, nil
}

func (f *fakeStore) claim(src AccountRef) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.claims[src]
}

func (f *fakeStore) events(kind string) []AuditEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []AuditEvent
	for _, ev := range f.audit {
		if ev.Event == kind {
			out = append(out, ev)
		}
	}
	return out
}
