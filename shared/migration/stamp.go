package migration

import "time"

// TimeLayout is RFC 3339 with a fixed nine-digit fraction. Timestamps end up
// in sort keys (audit trail, batches by state, an account's migrations), and
// time.RFC3339Nano drops trailing zeros, so "…00.1Z" would sort after
// "…00.15Z"; fixed width makes string order time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Stamp formats t in UTC with TimeLayout.
func Stamp(t time.Time) string { return t.UTC().Format(TimeLayout) }

// SortableTime rewrites an RFC 3339 timestamp in TimeLayout, so values written
// before the fixed width (or by another writer) still sort in time order; a
// value that does not parse is kept as it is.
func SortableTime(at string) string {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return at
	}
	return Stamp(t)
}
