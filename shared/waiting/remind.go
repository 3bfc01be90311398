package waiting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/devplatform/account-migration/shared/migration"
)

// Reminder is the reminder sweep's handler: on a schedule, every batch that
// waits on its developer gets the BatchExpiring reminder that has come due
// (migration.Migrator.RemindOne decides and marks it, once).
type Reminder struct {
	Store    Lister
	Migrator interface {
		RemindOne(ctx context.Context, b migration.Batch, offsets []time.Duration, now time.Time) (time.Duration, error)
	}
	Offsets []time.Duration // longest first; migration.DefaultReminders when empty
	Log     *slog.Logger
	Now     func() time.Time // default time.Now
}

// SweepReport is what one sweep did.
type SweepReport struct {
	Checked int            `json:"checked"`
	Sent    map[string]int `json:"sent"` // by offset ("604800s")
	Failed  int            `json:"failed"`
}

// Handle sweeps once. A batch whose reminder could not be sent is left
// unmarked for the next sweep, and the sweep goes on with the others; it
// fails (so the schedule's retry runs it again) only when nothing could be
// listed or some reminder failed.
//
// It sweeps at the later of the scheduled event's time and the clock, as the
// probe does: a delayed delivery is not early for any reminder.
func (r Reminder) Handle(ctx context.Context, ev Event) (SweepReport, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	if ev.Time.After(now) {
		now = ev.Time
	}
	offsets := r.Offsets
	if len(offsets) == 0 {
		offsets = migration.DefaultReminders
	}
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	rep := SweepReport{Sent: map[string]int{}}
	batches, err := Batches(ctx, r.Store, time.Time{}, 0)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, b := range batches {
		rep.Checked++
		sent, err := r.Migrator.RemindOne(ctx, b, offsets, now)
		if err != nil {
			rep.Failed++
			log.ErrorContext(ctx, "reminder not sent", "migrationId", b.MigrationID, "batchId", b.BatchID, "error", err)
			errs = append(errs, err)
			continue
		}
		if sent > 0 {
			rep.Sent[fmt.Sprintf("%ds", int64(sent/time.Second))]++
			log.InfoContext(ctx, "reminder sent", "migrationId", b.MigrationID, "batchId", b.BatchID, "before", sent.String())
		}
	}
	log.InfoContext(ctx, "reminder sweep", "checked", rep.Checked, "sent", rep.Sent, "failed", rep.Failed)
	return rep, errors.Join(errs...)
}

// ParseOffsets reads REMINDER_OFFSETS_SECONDS ("604800,86400"): the reminder
// offsets before a batch's deadline, in seconds.
func ParseOffsets(v string) ([]time.Duration, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []time.Duration
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("reminder offset %q: a whole number of seconds above 0", f)
		}
		out = append(out, time.Duration(n)*time.Second)
	}
	return out, nil
}
