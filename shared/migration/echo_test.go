package migration

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEchoTruncates(t *testing.T) {
	assert.Equal(t, "subj-a/developer", Echo("subj-a/developer"))
	long := strings.Repeat("k", 1<<20)
	assert.Equal(t, strings.Repeat("k", EchoLimit)+"…", Echo(long))
	zh := strings.Repeat("主体", 40) // 3 bytes a character: the cut falls inside one
	got := Echo(zh)
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.LessOrEqual(t, len(got), EchoLimit+len("…"))
	assert.True(t, strings.HasPrefix(zh, strings.TrimSuffix(got, "…")), "whole characters only")

	_, err := Plan{}.Select([]string{long})
	assert.True(t, IsCode(err, CodeUnknownBatch))
	assert.Less(t, len(err.Error()), 200, "the unknown key is not echoed whole")
}
