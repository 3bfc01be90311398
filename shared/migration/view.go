package migration

import "context"

// OwnMigration returns the migration and its batches when it is the caller's;
// another account's migration is reported as not found.
func (s *Reads) OwnMigration(ctx context.Context, src AccountRef, migrationID string) (Migration, []Batch, error) {
	m, err := s.Store.Migration(ctx, migrationID)
	if err != nil {
		return Migration{}, nil, err
	}
	if m.Source != src {
		return Migration{}, nil, Errorf(CodeNotFound, "no migration %s", migrationID)
	}
	batches, err := s.Store.Batches(ctx, migrationID)
	return m, batches, err
}

// OwnBatch returns a batch of one of the caller's migrations.
func (s *Reads) OwnBatch(ctx context.Context, src AccountRef, migrationID, batchID string) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.Source != src {
		return Batch{}, Errorf(CodeNotFound, "no batch %s in migration %s", batchID, migrationID)
	}
	return b, nil
}

// drivenBatch is OwnBatch for the steps that change a batch (accept, target,
// confirm): they need the migration's execution, which waits on each step and
// moves the assets after the confirmation. A migration whose execution did not
// start (StartExecution failed after its batches were written) refuses them
// until a new POST /v1/migrations starts it, so nothing is ever confirmed
// with no workflow to move it.
func (s *DeveloperActions) drivenBatch(ctx context.Context, src AccountRef, migrationID, batchID string) (Batch, error) {
	b, err := s.reads().OwnBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	m, err := s.Store.Migration(ctx, migrationID)
	if err != nil {
		return Batch{}, err
	}
	if m.StartsExecution && m.ExecutionArn == "" {
		return Batch{}, Errorf(CodeWorkflowNotStarted, "migration %s has no running workflow yet; POST /v1/migrations again to start it", migrationID)
	}
	if err := s.steps().workflowAlive(ctx, m, b); err != nil {
		return Batch{}, err
	}
	return b, nil
}

// State of a migration, derived from its batches.
func (s *Reads) State(m Migration, batches []Batch) MigrationState {
	return DeriveMigrationState(m.Eligible, states(batches))
}

// Review is one page of what a batch moves (rule 7).
type Review struct {
	Batch      Batch
	Account    Account
	Subject    *Subject
	Items      []Item // what moves: apps, services, identities, own relations, data, orders
	Followers  []Item // relations on the batch's apps: they follow the apps
	NextCursor string
}

// ReviewBatch pages through what the batch moves. The cursor pages the moving
// items first, then the followers.
func (s *Reads) ReviewBatch(ctx context.Context, src AccountRef, migrationID, batchID, cursor string, limit int) (Review, error) {
	b, err := s.OwnBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Review{}, err
	}
	acct, err := s.Store.SourceAccount(ctx, src)
	if err != nil {
		return Review{}, err
	}
	r := Review{Batch: b, Account: acct}
	if b.SubjectID != PersonalSubject {
		sub, err := s.Store.Subject(ctx, b.SubjectID)
		if err != nil {
			return Review{}, err
		}
		r.Subject = &sub
	}
	followersCursor, itemsCursor, inFollowers := splitCursor(cursor)
	if !inFollowers {
		// Before the commit the items are held by the source; after it, by the
		// target, which may hold items of the same batch key that another
		// migration moved: only this batch's are listed.
		page := func() ([]Item, string, error) {
			return s.Store.HeldItems(ctx, b.SourceHolder(), b.BatchKey, itemsCursor, limit)
		}
		if b.State.PastPointOfNoReturn() {
			page = func() ([]Item, string, error) {
				return s.Store.MovedItems(ctx, b.TargetHolder(), b.BatchKey, b.BatchID, itemsCursor, limit)
			}
		}
		items, next, err := page()
		if err != nil {
			return Review{}, err
		}
		r.Items = items
		if next != "" {
			r.NextCursor = "i:" + next
			return r, nil
		}
	}
	fol, next, err := s.Store.Followers(ctx, b.SourceHolder(), b.BatchKey, followersCursor, limit)
	if err != nil {
		return Review{}, err
	}
	r.Followers = fol
	if next != "" {
		r.NextCursor = "f:" + next
	}
	return r, nil
}

func splitCursor(c string) (followers, items string, inFollowers bool) {
	switch {
	case len(c) > 2 && c[:2] == "f:":
		return c[2:], "", true
	case len(c) > 2 && c[:2] == "i:":
		return "", c[2:], false
	}
	return "", "", false
}
