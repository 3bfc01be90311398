package migration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The alarms and dashboards count outcomes: each ended batch is counted once,
// by the write that ended it, whatever retries, clicks or second movers come
// after, and under the label an operator reads (the code, or the workflow
// error that failed it).
func TestABatchThatEndsIsCountedOnce(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	f.put(Migration{MigrationID: "m-1", Source: alice}, AwaitingAgreement, AwaitingTarget, AwaitingConfirmation, Committed)
	o := &outcomes{}
	s := New(Deps{Store: f, Now: fixedNow, Outcomes: o})

	b, err := s.Fail(ctx, "m-1", "a", CodeQuotaExceeded, "over the quota")
	require.NoError(t, err)
	assert.Equal(t, Failed, b.State)
	_, err = s.Fail(ctx, "m-1", "a", CodeQuotaExceeded, "over the quota")
	require.NoError(t, err, "a retried step finds it failed")
	_, err = s.Expire(ctx, "m-1", "a")
	assert.True(t, IsCode(err, CodeWrongStep), "a failed batch does not expire too: %v", err)

	_, err = s.Expire(ctx, "m-1", "b")
	require.NoError(t, err)
	_, err = s.Expire(ctx, "m-1", "b")
	require.NoError(t, err)

	b, err = s.FailCaught(ctx, "m-1", "c", "States.TaskFailed", "the await step failed")
	require.NoError(t, err)
	assert.Equal(t, CodeInternal, b.Error.Code, "the batch says INTERNAL; the count names the caught error")

	_, err = s.Fail(ctx, "m-1", "d", CodeInternal, "too late")
	assert.True(t, IsCode(err, CodeWrongStep), "a committed batch never fails: %v", err)

	assert.Equal(t, []string{"failed a QUOTA_EXCEEDED", "failed b EXPIRED", "failed c States.TaskFailed"}, o.got)
	assert.Len(t, f.events(EventBatchFailed), 2)
	assert.Len(t, f.events(EventBatchExpired), 1)
}

// Two movers of one batch (a Lambda retry of a finished Move, or ops'
// resume beside the workflow) count its commit once, with every asset.
func TestACommitIsCountedOnceByTheMoverThatClosedIt(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	f.put(Migration{MigrationID: "m-1", Source: alice}, Committing)
	f.batches["m-1"][0].Total, f.batches["m-1"][0].TargetPlatform, f.batches["m-1"][0].BatchKey = 5, TargetPartner, "personal/partner"
	o := &outcomes{}
	s := New(Deps{Store: f, Now: fixedNow, Outcomes: o, ChunkSize: 2})

	var wg sync.WaitGroup
	progress := make([]Progress, 3)
	for i := range progress {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.Move(ctx, "m-1", "a", time.Time{})
			assert.NoError(t, err)
			progress[i] = p
		}()
	}
	wg.Wait()
	for _, p := range progress {
		assert.Equal(t, Progress{Done: true, Moved: 5, Total: 5, BatchKey: "personal/partner", TargetPlatform: TargetPartner}, p)
	}
	_, err := s.Move(ctx, "m-1", "a", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, []string{"committed a partner 5"}, o.got)
	assert.Len(t, f.events(EventBatchCommitted), 1)
}

// A move handed back before it is done says where the batch is going, so
// the workflow's answer needs no read of its own.
func TestAnUnfinishedMoveSaysWhereTheBatchGoes(t *testing.T) {
	f := newFakeStore()
	f.put(Migration{MigrationID: "m-1", Source: alice}, Committing)
	f.batches["m-1"][0].Total, f.batches["m-1"][0].TargetPlatform, f.batches["m-1"][0].TargetAccountID = 5, TargetDeveloper, "dev-9"
	o := &outcomes{}
	s := New(Deps{Store: f, Now: fixedNow, Outcomes: o, ChunkSize: 2})

	p, err := s.Move(context.Background(), "m-1", "a", fixedNow().Add(-time.Second))
	require.NoError(t, err)
	assert.Equal(t, Progress{Moved: 2, Total: 5, TargetPlatform: TargetDeveloper, TargetAccountID: "dev-9"}, p)
	assert.Empty(t, o.got, "not committed yet")
}

// Each time the workflow gives up moving a batch it is counted (the alarm
// fires again after ops resume one that stalls again); a batch that is not
// past the point of no return is never stalled.
func TestEveryStallIsCounted(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	f.put(Migration{MigrationID: "m-1", Source: alice}, Committing, AwaitingTarget)
	o := &outcomes{}
	s := New(Deps{Store: f, Now: fixedNow, Outcomes: o})

	for range 2 {
		b, err := s.Stall(ctx, "m-1", "a", "States.Timeout", "the move timed out")
		require.NoError(t, err)
		assert.Equal(t, Committing, b.State, "a stalled batch still only moves forward")
		assert.Equal(t, CodeMoveStalled, b.Error.Code)
	}
	b, err := s.Stall(ctx, "m-1", "b", "States.Timeout", "never confirmed")
	require.NoError(t, err)
	assert.Equal(t, AwaitingTarget, b.State, "a batch not past the point of no return is not stalled")
	assert.Equal(t, []string{"stalled a States.Timeout", "stalled a States.Timeout"}, o.got)
}
