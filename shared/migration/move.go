package migration

import (
	"context"
	"time"
)

// Progress is how far a batch's move has come, and where the batch is
// going, so the workflow's answer and notification need no read of their own.
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
func (s *WorkflowSteps) Move(ctx context.Context, migrationID, batchID string, until time.Time) (Progress, error) {
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
	closedHere := false // this call's write closed the batch
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
			closedHere = true
			break
		}
		if res.Done {
			closing.Audit.At = s.stamp()
			closed, mine, err := s.close(ctx, closing)
			if err != nil {
				return Progress{}, err
			}
			if closed {
				closedHere = mine
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
			p := committedProgress(b)
			p.Done = false
			return p, nil
		}
	}
	// The one read after the closing: records that joined during the move
	// changed the total, and another mover's chunks the count.
	b, err = s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Progress{}, err
	}
	if closedHere {
		// Only the mover whose write closed the batch counts it, whatever
		// retries or second movers come after.
		s.Outcomes.BatchCommitted(ctx, b, b.Moved)
	}
	return committedProgress(b), nil
}

// close marks a batch whose items have all moved COMMITTED, when its last
// move had no room for it (or found nothing left). closed is false when the
// batch is still COMMITTING with items left (they joined during the move);
// mine is whether this write closed it, not another mover's.
func (s *WorkflowSteps) close(ctx context.Context, t Transition) (closed, mine bool, err error) {
	if _, err := s.Store.Transition(ctx, t); err != nil {
		// Another mover may have finished first; anything else is the error.
		cur, rerr := s.Store.Batch(ctx, t.MigrationID, t.BatchID)
		if rerr != nil {
			return false, false, rerr
		}
		if cur.State == Committing && cur.Left != nil && *cur.Left > 0 {
			return false, false, nil
		}
		if cur.State != Committed {
			return false, false, err
		}
		return true, false, nil
	}
	return true, true, nil
}

// pause waits d, or until ctx ends.
func (s *WorkflowSteps) pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
