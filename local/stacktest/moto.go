package stacktest

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto"
)

// MotoPool lends moto servers to store-level tests, one test per server at a
// time, each server reset before it is lent. moto serves on one core
// (Python), so tests that each reset and redeploy one moto run side by side
// on as many servers as there are cores instead of one after the other.
type MotoPool struct {
	// Size is how many servers at most; 0 = runtime.GOMAXPROCS(0).
	Size int

	mu      sync.Mutex
	started []*moto.Server
	free    chan *moto.Server
}

// Get blocks until a server is free (starting one while fewer than Size run),
// resets it and lends it to t until t ends.
func (p *MotoPool) Get(t testing.TB) *moto.Server {
	t.Helper()
	srv := p.take(t)
	t.Cleanup(func() { p.free <- srv })
	ResetMoto(t, srv.Endpoint)
	return srv
}

func (p *MotoPool) take(t testing.TB) *moto.Server {
	t.Helper()
	p.mu.Lock()
	size := p.Size
	if size <= 0 {
		size = runtime.GOMAXPROCS(0)
	}
	if p.free == nil {
		p.free = make(chan *moto.Server, size)
	}
	select {
	case srv := <-p.free:
		p.mu.Unlock()
		return srv
	default:
	}
	if len(p.started) < size {
		opts := moto.Options{}
		if os.Getenv("MOTO_VERBOSE") != "" {
			opts.Stdout, opts.Stderr = os.Stderr, os.Stderr
		}
		srv, err := moto.Start(context.Background(), opts)
		if err == nil {
			p.started = append(p.started, srv)
		}
		p.mu.Unlock()
		require.NoError(t, err, "start moto")
		return srv
	}
	p.mu.Unlock()
	return <-p.free
}

// Close stops every server the pool started (TestMain calls it).
func (p *MotoPool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, srv := range p.started {
		errs = append(errs, srv.Close())
	}
	p.started = nil
	return errors.Join(errs...)
}
