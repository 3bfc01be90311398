// Package retention runs the hourly housekeeping of personal data
// (docs/PRIVACY.md): past the retention period, the IP addresses and user
// agents of the audit trail are removed; the records themselves stay. It
// runs in the reminders' hourly invocation, beside the reminder sweep.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/waiting"
)

// DefaultDays is how long an IP address or user agent is kept when
// PERSONAL_DATA_RETENTION_DAYS is not set: template.yaml's default.
const DefaultDays = 180

// MaxDays bounds the setting: ten years is a typo, not a period.
const MaxDays = 3650

// PerRun bounds the records one run reduces, so a run fits its timeout;
// the rest are reduced by the next runs (Report.More).
const PerRun = 5000

// Reducer is the store's part.
type Reducer interface {
	ReduceAuditPersonalData(ctx context.Context, cutoff, now string, limit int) (int, bool, error)
}

// Job reduces what has passed its retention period.
type Job struct {
	Store  Reducer
	Period time.Duration
	Log    *slog.Logger
}

// Report is what one run did.
type Report struct {
	Cutoff  string `json:"cutoff"` // records written before it were due
	Reduced int    `json:"reduced"`
	More    bool   `json:"more,omitempty"` // more were due than one run reduces
}

// Run reduces, at the instant now, every record written before now minus
// the period.
func (j Job) Run(ctx context.Context, now time.Time) (Report, error) {
	if j.Period <= 0 {
		return Report{}, errors.New("retention: no period")
	}
	rep := Report{Cutoff: migration.Stamp(now.Add(-j.Period))}
	n, more, err := j.Store.ReduceAuditPersonalData(ctx, rep.Cutoff, migration.Stamp(now), PerRun)
	rep.Reduced, rep.More = n, more
	log := j.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "personal data retention", "cutoff", rep.Cutoff, "reduced", n, "more", more)
	return rep, err
}

// PeriodFromEnv reads PERSONAL_DATA_RETENTION_DAYS: whole days, 1 to
// MaxDays; empty is DefaultDays.
func PeriodFromEnv(v string) (time.Duration, error) {
	days := DefaultDays
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxDays {
			return 0, fmt.Errorf("PERSONAL_DATA_RETENTION_DAYS must be 1-%d whole days, got %q", MaxDays, v)
		}
		days = n
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// Hourly is the scheduled invocation: the reminder sweep, then the
// retention job, at the later of the event's time and the clock (a delayed
// delivery is not early). One failing does not keep the other from running.
type Hourly struct {
	Reminders waiting.Reminder
	Retention Job
	Now       func() time.Time // default time.Now
}

// HourlyReport is the sweep's report with the retention job's.
type HourlyReport struct {
	waiting.SweepReport
	Retention Report `json:"retention"`
}

// Handle runs both.
func (h Hourly) Handle(ctx context.Context, ev waiting.Event) (HourlyReport, error) {
	sweep, serr := h.Reminders.Handle(ctx, ev)
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	if ev.Time.After(now) {
		now = ev.Time
	}
	ret, rerr := h.Retention.Run(ctx, now)
	return HourlyReport{SweepReport: sweep, Retention: ret}, errors.Join(serr, rerr)
}
