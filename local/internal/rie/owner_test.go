package rie

import (
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOwnsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	owns, ok := ownsListener(os.Getpid(), port)
	if !ok {
		t.Skip("/proc does not map sockets here")
	}
	assert.True(t, owns, "this process listens on the port")
	owns, ok = ownsListener(os.Getppid(), port)
	assert.True(t, ok)
	assert.False(t, owns, "the parent does not")
}
