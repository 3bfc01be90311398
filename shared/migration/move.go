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
	// A move with a short time (MoveInvocationSeconds) asks for one write a
	// call: the many a call would otherwise amortise its read over could
	// overrun it many times over.
	short := !until.IsZero() && until.Sub(s.now()) <= shortMove
	closing := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{Committing}, To: Committed,
		Audit: AuditEvent{At: s.stamp(), Event: EventBatchCommitted, Account: b.Source.String(), MigrationID: migrationID, BatchID: batchID,
			BatchKey: b.BatchKey, From: Committing, To: Committed, Detail: map[string]any{"targetAccountId": b.TargetAccountID, "total": b.Total}}}
	if b.Left != nil {
		none := 0
		closing.LeftIs = &none // closed only once nothing is left: a record may join while it moves
	}
	for idle := 0; ; {
		if err := ctx.Err(); err != nil {
			return Progress{}, err
		}
		res, err := s.Store.MoveChunk(ctx, Chunk{Batch: b, PerWrite: s.ChunkSize, Short: short, Clock: s.now, Closing: &closing})
		if err != nil {
			return Progress{}, err
		}
		b.Moved += res.Moved
		if res.Closed {
			break
		}
		if res.Done {
			closing.Audit.At = s.stamp()
			closed, err := s.close(ctx, closing)
			if err != nil {
				return Progress{}, err
			}
			if closed {
				break
			}
			// Something joined the batch that the index does not show yet:
			// look again, a bounded number of times.
			if idle++; idle > 20 {
				return Progress{}, Errorf(CodeUnavailable, "batch %s counts items left to move that its source does not show yet; move it again", b.BatchID)
			}
			if err := s.pause(ctx, 100*time.Millisecond); err != nil {
				return Progress{}, err
			}
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
// move had no room for it (or found nothing left). closed is false when the
// batch is still COMMITTING with items left (they joined during the move).
func (s *Migrator) close(ctx context.Context, t Transition) (closed bool, err error) {
	if _, err := s.Store.Transition(ctx, t); err != nil {
		// Another mover may have finished first; anything else is the error.
		cur, rerr := s.Store.Batch(ctx, t.MigrationID, t.BatchID)
		if rerr != nil {
			return false, rerr
		}
		if cur.State == Committing && cur.Left != nil && *cur.Left > 0 {
			return false, nil
		}
		if cur.State != Committed {
			return false, err
		}
	}
	return true, nil
}

// pause waits d, or until ctx ends.
func (s *Migrator) pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
