package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// make bench rewrites only its own block: the analysis written around it
// stays, and a file without the markers gets them appended.
func TestSpliceMarkersKeepsTheRest(t *testing.T) {
	old := "# Benchmarks\n\nintro\n\n" + beginMarker + "\nold table\n" + endMarker + "\n\n## Analysis\nkept\n"
	got := string(spliceMarkers([]byte(old), "new table\n"))
	assert.Equal(t, "# Benchmarks\n\nintro\n\n"+beginMarker+"\nnew table\n"+endMarker+"\n\n## Analysis\nkept\n", got)
	assert.Equal(t, got, string(spliceMarkers([]byte(got), "new table")), "rewriting is idempotent")

	appended := string(spliceMarkers([]byte("# Notes\n"), "t"))
	assert.Equal(t, "# Notes\n\n"+beginMarker+"\nt\n"+endMarker+"\n", appended)
	assert.True(t, strings.HasPrefix(string(spliceMarkers(nil, "t")), "# Benchmarks\n"))
}

func TestBenchLineFormat(t *testing.T) {
	assert.Equal(t, "BENCH commit_ratio_wall_2000 0.83 ratio", figure{Name: "commit_ratio_wall_2000", Value: 0.8312, Unit: "ratio"}.benchLine())
	assert.Equal(t, "BENCH max_state_payload_1000x200 8123 bytes", figure{Name: "max_state_payload_1000x200", Value: 8123, Unit: "bytes"}.benchLine())
	assert.Equal(t, "BENCH transitions_per_batch_1x1 14 transitions", figure{Name: "transitions_per_batch_1x1", Value: 14, Unit: "transitions"}.benchLine())
	assert.Equal(t, "BENCH commit_rate_2000 347 assets/s", figure{Name: "commit_rate_2000", Value: 347.4, Unit: "assets/s"}.benchLine())
}
