package dynamostore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// transitionCounter counts the batch transitions written on their own.
type transitionCounter struct {
	migration.Store
	n atomic.Int32
}

func (c *transitionCounter) Transition(ctx context.Context, t migration.Transition) (migration.Batch, error) {
	c.n.Add(1)
	return c.Store.Transition(ctx, t)
}

// The move that empties a batch marks it COMMITTED in the same transaction
// when the items leave room (at most 98 with the batch and its audit event):
// one bookkeeping write fewer per batch. With 99 items there is no room, and
// the batch is closed by a write of its own. Either way the batch ends
// COMMITTED once, its counter exact.
func TestLastMoveClosesTheBatch(t *testing.T) {
	for _, tc := range []struct {
		apps        int // three items each
		ownClosings int32
	}{{10, 0}, {32, 0}, {33, 1}} {
		t.Run(fmt.Sprintf("%d items", 3*tc.apps), func(t *testing.T) {
			f := newFixture().subject("subj-a", migration.SubjectCompany).account("microapp", "ma-1", "alice@example.com", "subj-a")
			for i := range tc.apps { // web apps: no mini-program quota to meet
				id := fmt.Sprintf("web-%d", i)
				f.Apps = append(f.Apps, migration.App{ID: id, Platform: "microapp", Kind: migration.AppWeb, Name: id, CreatorAccountID: "ma-1", SubjectID: "subj-a", Certified: true})
				f.Data = append(f.Data, migration.DataSet{ID: "ds-" + id, AssetID: id, Kind: "analytics"})
				f.Orders = append(f.Orders, migration.Order{ID: "ord-" + id, AssetID: id, AmountCents: 1, Currency: "CNY", Status: "paid"})
			}
			e := newEnv(t, f.build(t))
			b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
			_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
			require.NoError(t, err)
			counter := &transitionCounter{Store: e.store}
			var tick atomic.Int64 // a clock one second further at each reading
			clock := func() time.Time { return time.Now().Add(time.Duration(tick.Add(1)) * time.Second) }
			m := migration.New(migration.Deps{Store: counter, ChunkSize: 99, Now: clock})
			p, err := m.Move(e.ctx, b.MigrationID, b.BatchID, time.Time{})
			require.NoError(t, err)
			assert.True(t, p.Done)
			assert.Equal(t, tc.ownClosings, counter.n.Load(), "closing writes of their own")

			got, err := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
			require.NoError(t, err)
			assert.Equal(t, migration.Committed, got.State)
			assert.Equal(t, 3*tc.apps, got.Moved, "the counter is exact")
			assert.Equal(t, got.Total, got.Moved)
			committed := auditEvents(t, e, alice, migration.EventBatchCommitted)
			require.Len(t, committed, 1, "committed once")
			at, err := time.Parse(time.RFC3339Nano, committed[0].At)
			require.NoError(t, err)
			for _, it := range e.items(t, b.TargetHolder(), b.BatchKey) {
				moved, err := time.Parse(time.RFC3339Nano, it.MovedAt)
				require.NoError(t, err)
				assert.False(t, at.Before(moved), "committed at %s, after the move of %s at %s", at, it.Key, moved)
			}

			// Running the move again changes nothing.
			again, err := m.Move(e.ctx, b.MigrationID, b.BatchID, time.Time{})
			require.NoError(t, err)
			assert.Equal(t, 3*tc.apps, again.Moved)
			assert.Len(t, auditEvents(t, e, alice, migration.EventBatchCommitted), 1)
		})
	}
}
