package retention

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

type recorder struct{ cutoff, now string }

func (r *recorder) ReduceAuditPersonalData(_ context.Context, cutoff, now string, limit int) (int, bool, error) {
	r.cutoff, r.now = cutoff, now
	return 3, false, nil
}

func TestPeriodFromEnv(t *testing.T) {
	d, err := PeriodFromEnv("")
	require.NoError(t, err)
	assert.Equal(t, 180*24*time.Hour, d, "the template's default")
	d, err = PeriodFromEnv("30")
	require.NoError(t, err)
	assert.Equal(t, 30*24*time.Hour, d)
	for _, bad := range []string{"0", "-1", "1.5", "3651", "forever"} {
		_, err := PeriodFromEnv(bad)
		assert.Error(t, err, bad)
	}
}

// The cutoff is the period before the later of the event's time and the
// clock: a run delivered late reduces what is due at its scheduled time.
func TestJobCutoff(t *testing.T) {
	rec := &recorder{}
	clock := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	j := Job{Store: rec, Period: 24 * time.Hour}
	rep, err := j.Run(context.Background(), clock)
	require.NoError(t, err)
	assert.Equal(t, migration.Stamp(clock.Add(-24*time.Hour)), rep.Cutoff)
	assert.Equal(t, migration.Stamp(clock.Add(-24*time.Hour)), rec.cutoff)
	assert.Equal(t, 3, rep.Reduced)
	_, err = Job{Store: rec}.Run(context.Background(), clock)
	assert.Error(t, err, "no period, no run")
}
