package migration

import (
	"context"
	"fmt"
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

func (f *fakeStore) Batch(_ context.Context, migrationID, batchID string) (Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _, err := f.batch(migrationID, batchID)
	return b, err
}

func (f *fakeStore) batch(migrationID, batchID string) (Batch, int, error) {
	for i, b := range f.batches[migrationID] {
		if b.BatchID == batchID {
			return b, i, nil
		}
	}
	return Batch{}, -1, Errorf(CodeNotFound, "no batch %s", batchID)
}

// Transition applies t when the batch is in one of its From states (and, with
// LeftIs, has no more than that many items left), as the store's condition
// does; otherwise WRONG_STEP with the batch as it is.
func (f *fakeStore) Transition(_ context.Context, t Transition) (Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, i, err := f.batch(t.MigrationID, t.BatchID)
	if err != nil {
		return Batch{}, err
	}
	from := false
	for _, st := range t.From {
		from = from || b.State == st
	}
	if !from || (t.LeftIs != nil && b.Left != nil && *b.Left > *t.LeftIs) {
		return b, Errorf(CodeWrongStep, "batch is %s", b.State)
	}
	b.State = t.To
	if t.Error != nil {
		b.Error = t.Error
	}
	f.batches[t.MigrationID][i] = b
	f.audit = append(append(f.audit, t.Audit), t.Also...)
	return b, nil
}

// MoveChunk moves up to PerWrite (default 1) of the batch's items left and
// writes the closing with the move that takes the last one.
func (f *fakeStore) MoveChunk(_ context.Context, c Chunk) (ChunkResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, i, err := f.batch(c.Batch.MigrationID, c.Batch.BatchID)
	if err != nil {
		return ChunkResult{}, err
	}
	n := max(c.PerWrite, 1)
	left := b.Total - b.Moved
	n = min(n, left)
	b.Moved += n
	res := ChunkResult{Moved: n, Done: b.Moved == b.Total}
	if res.Done && c.Closing != nil && b.State == Committing {
		b.State = Committed
		f.audit = append(f.audit, c.Closing.Audit)
		res.Closed = true
	}
	f.batches[c.Batch.MigrationID][i] = b
	return res, nil
}

// outcomes records what the use cases count, one line per outcome.
type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, s)
}

func (o *outcomes) BatchCommitted(_ context.Context, b Batch, moved int) {
	o.add(fmt.Sprintf("committed %s %s %d", b.BatchID, b.TargetPlatform, moved))
}
func (o *outcomes) BatchFailed(_ context.Context, b Batch, label string) {
	o.add(fmt.Sprintf("failed %s %s", b.BatchID, label))
}
func (o *outcomes) BatchStalled(_ context.Context, b Batch, label string) {
	o.add(fmt.Sprintf("stalled %s %s", b.BatchID, label))
}
