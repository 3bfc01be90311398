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

// shortMove: a move with less time than this goes one transaction per call.
const shortMove = 30 * time.Second

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
	// transaction. Smaller chunks stay one transaction per call, and so does
	// a move with a short time (MoveInvocationSeconds): thirty transactions
	// in one call could overrun it many times over.
	if chunk == 99 && (until.IsZero() || until.Sub(s.now()) > shortMove) {
		chunk = 30 * 99
	}
	closing := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{Committing}, To: Committed,
		Audit: AuditEvent{At: s.stamp(), Event: EventBatchCommitted, Account: b.Source.String(), MigrationID: migrationID, BatchID: batchID,
			BatchKey: b.BatchKey, From: Committing, To: Committed, Detail: map[string]any{"targetAccountId": b.TargetAccountID, "total": b.Total}}}
	for {
		if err := ctx.Err(); err != nil {
			return Progress{}, err
		}
		res, err := s.Store.MoveChunk(ctx, Chunk{Batch: b, Max: chunk, Clock: s.now, Closing: &closing})
		if err != nil {
			return Progress{}, err
		}
		b.Moved += res.Moved
		if res.Closed {
			break
		}
		if res.Done {
			closing.Audit.At = s.stamp()
			if err := s.close(ctx, closing); err != nil {
				return Progress{}, err
			}
			break
		}
		if !until.IsZero() && s.now().After(until) {
			return Progress{Moved: b.Moved, Total: b.Total}, nil
		}
	}
	b, err = s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Progress{}, err
	}
	return committedProgress(b), nil
}

// close marks a batch whose items have all moved COMMITTED, when its last
// move had no room for it (or found nothing left).
func (s *Migrator) close(ctx context.Context, t Transition) error {
	if _, err := s.Store.Transition(ctx, t); err != nil {
		// Another mover may have finished first; anything else is the error.
		cur, rerr := s.Store.Batch(ctx, t.MigrationID, t.BatchID)
		if rerr != nil {
			return rerr
		}
		if cur.State != Committed {
			return err
		}
	}
	return nil
}
