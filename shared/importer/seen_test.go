package importer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The duplicates found are the same whether the keys stay in memory or
// spill to disk in many runs: every repeat of a key after its first record.
func TestDupFinderSpills(t *testing.T) {
	for _, spillAt := range []int{1 << 20, 7, 1} {
		d := dupFinder{spillAt: spillAt}
		keys := []string{"a", "b", "a", "c", "b", "a", "d"}
		for i, k := range keys {
			require.NoError(t, d.add(idOf(k), int64(i+1)))
		}
		dups, err := d.dups()
		require.NoError(t, err)
		var got []int64
		for seq := int64(1); seq <= int64(len(keys)); seq++ {
			if dups.has(seq) {
				got = append(got, seq)
			}
		}
		assert.Equal(t, []int64{3, 5, 6}, got, "spill at %d", spillAt)
	}
}
