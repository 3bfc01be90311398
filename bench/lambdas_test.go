package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportLines(t *testing.T) {
	var c reportCollector
	_, _ = c.Write([]byte("[CommitFunction#2] REPORT RequestId: 5f0c\tInit Duration: 0.41 ms\tDuration: 12.5 ms\tBilled Duration: 13 ms\tMemory Size: 3008 MB\n[FinishFunction#0] START RequestId: x\n[Finish"))
	_, _ = c.Write([]byte("Function#0] REPORT RequestId: 9a\tDuration: 3.00 ms\tBilled Duration: 3 ms\n"))
	got := c.take()
	require.Len(t, got, 2)
	assert.Equal(t, invocationReport{Function: "CommitFunction", Duration: 12500 * time.Microsecond}, got[0])
	assert.Equal(t, invocationReport{Function: "FinishFunction", Duration: 3 * time.Millisecond}, got[1])
	assert.Empty(t, c.take())
}

func TestTemplateLambdas(t *testing.T) {
	tl, err := readTemplateLambdas("..")
	require.NoError(t, err)
	assert.Equal(t, "arm64", tl.Arch)
	assert.Equal(t, 512, tl.MemoryMB["CommitFunction"]) // its own MemorySize
	assert.Equal(t, 256, tl.MemoryMB["FinishFunction"]) // Globals
}
