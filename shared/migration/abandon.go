package migration

import "context"

// Abandon ends what a workflow leaves when one of its own steps fails for
// good outside the batches' branches (listing, splitting, the Map itself,
// the summary): no wait will ever hear those batches' next step, so every
// batch still waiting on its developer ends FAILED (nothing moved; the
// developer can start again), and the migration is summarised when nothing
// else is open, which frees the account. A COMMITTING batch stays as it is:
// it only moves forward, and ops resume it (opsctl stuck lists it).
// A migration that was never created (the failure came before the claim)
// leaves nothing to do.
func (s *WorkflowSteps) Abandon(ctx context.Context, migrationID, message string) (Summary, error) {
	m, err := s.Store.Migration(ctx, migrationID)
	if IsCode(err, CodeNotFound) {
		return Summary{MigrationID: migrationID, Counts: map[BatchState]int{}, Batches: []BatchSummary{}}, nil
	}
	if err != nil {
		return Summary{}, err
	}
	batches, err := s.Store.Batches(ctx, m.MigrationID)
	if err != nil {
		return Summary{}, err
	}
	for _, b := range batches {
		if !b.State.WaitingOnDeveloper() {
			continue
		}
		if _, err := s.Fail(ctx, b.MigrationID, b.BatchID, CodeInternal,
			"the migration's workflow failed before this batch could go on ("+message+"); nothing moved, start again"); err != nil && !IsCode(err, CodeWrongStep) {
			return Summary{}, err
		}
	}
	return s.Summarize(ctx, m.MigrationID)
}
