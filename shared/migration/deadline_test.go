package migration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWaitDeadlineIsWhatIsLeft(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		expiresAt time.Time
		heartbeat int
	}{
		{"thirty days left", now.Add(30 * 24 * time.Hour), 30 * 24 * 3600},
		{"a year left", now.Add(366 * 24 * time.Hour), 366 * 24 * 3600},
		{"part of a second left rounds up", now.Add(1500 * time.Millisecond), 2},
		{"already past: expire at once", now.Add(-time.Hour), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := WaitDeadlineUntil(c.expiresAt, now)
			assert.Equal(t, c.heartbeat, d.HeartbeatSeconds, "nobody heartbeats: the heartbeat ends the wait at the deadline")
			assert.Greater(t, d.TimeoutSeconds, d.HeartbeatSeconds, "Step Functions wants the heartbeat below the timeout")
			assert.LessOrEqual(t, d.TimeoutSeconds, 99999999, "TimeoutSeconds' maximum")
		})
	}
}

func TestBatchDeadlineIsOneForAllWaits(t *testing.T) {
	b := Batch{CreatedAt: "2026-12-01T00:00:00Z", ExpiresAt: "2026-12-31T00:00:00Z"}
	assert.Equal(t, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), b.Deadline(time.Hour), "the stored deadline wins")
	b.ExpiresAt = ""
	assert.Equal(t, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), b.Deadline(time.Hour), "older batches count from their creation")
}

// The workflow's output stays under 16 KB whatever the batch count, and
// counts every batch even when it lists only some.
func TestSummaryIsBounded(t *testing.T) {
	for _, n := range []int{1, 100, 101, 1000, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			batches := make([]Batch, n)
			for i := range batches {
				batches[i] = Batch{BatchKey: fmt.Sprintf("subject-with-a-long-id-%05d/developer", i), State: Failed, TargetPlatform: TargetDeveloper,
					TargetAccountID: fmt.Sprintf("dev-b-%016x", i), Error: &BatchError{Code: CodeQuotaExceeded, Message: strings.Repeat("quota ", 20)}}
			}
			sum := SummaryOf(Migration{MigrationID: "m-1", Eligible: true}, batches)
			out, err := json.Marshal(sum)
			require.NoError(t, err)
			assert.Less(t, len(out), 16<<10, "output bytes at %d batches", n)
			assert.Equal(t, n, sum.Counts[Failed])
			assert.LessOrEqual(t, len(sum.Batches), SummaryBatchLimit)
			assert.Equal(t, len(sum.Batches) < n, sum.BatchesTruncated)
			assert.Equal(t, MigrationCompleted, sum.State)
		})
	}
}
