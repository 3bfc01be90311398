package migration

import "context"

// Plain reads the edges need beside the use cases, so that handlers and steps
// call the Migrator and never reach through it to its Store.

// Subject returns a certified subject by id.
func (s *Reads) Subject(ctx context.Context, subjectID string) (Subject, error) {
	return s.Store.Subject(ctx, subjectID)
}

// Batch returns one batch as stored, whoever asks (workflow steps, ops).
func (s *Reads) Batch(ctx context.Context, migrationID, batchID string) (Batch, error) {
	return s.Store.Batch(ctx, migrationID, batchID)
}

// BatchesOf returns a migration's batches as stored, whoever asks (ops).
func (s *Reads) BatchesOf(ctx context.Context, migrationID string) ([]Batch, error) {
	return s.Store.Batches(ctx, migrationID)
}
