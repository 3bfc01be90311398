package migration

import (
	"context"
	"time"
)

// Progress is how far a batch's move has come. Once done it also names
// where the batch landed, for the workflow's notification (no extra read).
type Progress struct {
	Done            bool           `json:"done"`
	Moved           int            `json:"moved"`
	Total           int            `json:"total"`
	BatchKey        string         `json:"batchKey,omitempty"`
	TargetPlatform  TargetPlatform `json:"targetPlatform,omitempty"`
	TargetAccountID string         `json:"targetAccountId,omitempty"`
}

func committedProgress(b Batch) Progress {
	return Progress{Done: true, Moved: b.Moved, Total: b.Total, BatchKey: b.BatchKey, TargetPlatform: b.TargetPlatform, TargetAccountID: b.TargetAccountID}
}

// Move moves the batch's items in chunks until none is left or the deadline
// nears, then marks the batch COMMITTED. Safe to run again at any point, and
// concurrently: each item moves only from its source, once.
func (s *Migrator) Move(ctx context.Context, migrationID, batchID string, until time.Time) (Progress, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Progress{}, err
	}
	switch b.State {
	case Committed:
		return committedProgress(b), nil
	case Committing:
	default:
		return Progress{}, Errorf(CodeWrongStep, "batch is %s, not COMMITTING", b.State)
	}
	chunk := s.ChunkSize
	if chunk <= 0 || chunk > 99 {
		chunk = 99
	}
	// Full-size transactions go thirty to a call (~3,000 items: one query
	// page within DynamoDB's 1 MB read): the store finds them with one query
	// (MoveChunk), whose fixed cost would otherwise weigh on every
	// transaction. Smaller chunks stay one transaction per call.
	if chunk == 99 {
		chunk = 30 * 99
	}
	for {
		if err := ctx.Err(); err != nil {
			return Progress{}, err
		}
		n, done, err := s.Store.MoveChunk(ctx, b, chunk, s.now())
		if err != nil {
			return Progress{}, err
		}
		b.Moved += n
		if done {
			break
		}
		if !until.IsZero() && s.now().After(until) {
			return Progress{Moved: b.Moved, Total: b.Total}, nil
		}
	}
	t := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{Committing}, To: Committed,
		Audit: AuditEvent{At: s.stamp(), Event: EventBatchCommitted, Account: b.Source.String(), MigrationID: migrationID, BatchID: batchID,
			BatchKey: b.BatchKey, From: Committing, To: Committed, Detail: map[string]any{"targetAccountId": b.TargetAccountID, "total": b.Total}}}
	if _, err := s.Store.Transition(ctx, t); err != nil {
		// Another mover may have finished first; anything else is the error.
		cur, rerr := s.Store.Batch(ctx, migrationID, batchID)
		if rerr != nil {
			return Progress{}, rerr
		}
		if cur.State != Committed {
			return Progress{}, err
		}
		b = cur
	}
	b, err = s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Progress{}, err
	}
	return committedProgress(b), nil
}
