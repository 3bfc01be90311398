package importer

import (
	"context"
	"errors"
	"time"
)

// Lease is the import lock as the workflow holds it: across invocations, by
// the execution's name, with no process to renew it in between
// (shared/dynamostore).
type Lease interface {
	// Take takes the lock for owner when it is free, lapsed or already
	// owner's; it answers who holds it and until when.
	Take(ctx context.Context, owner string) (holder string, until time.Time, err error)
	// Keep renews owner's lock; ErrLockLost when another import holds it
	// or took and released it since (the row is gone), whether or not
	// owner's lease had lapsed meanwhile.
	Keep(ctx context.Context, owner string) error
	// Release frees owner's lock (nothing when owner does not hold it).
	Release(ctx context.Context, owner string) error
}

// ErrLockLost: another import took the table's import lock while this one
// ran, so what this one checked may have changed.
var ErrLockLost = errors.New("the table's import lock was taken by another import while this one ran")

// keep renews owner's lease now and then every third of lease until stop.
func keep(ctx context.Context, l Lease, owner string, lease time.Duration) (stop func(), err error) {
	if err := l.Keep(ctx, owner); err != nil {
		return nil, err
	}
	return RenewEvery(ctx, lease/3, func(ctx context.Context) { _ = l.Keep(ctx, owner) }), nil
}

// RenewEvery calls renew every period, on a context that outlives ctx's
// cancellation (a lease is renewed until stop, not until the caller's
// deadline), until the returned stop, which returns once the last renewal
// ended. opsctl's lock and the workflow's lease both hold their lock so.
func RenewEvery(ctx context.Context, period time.Duration, renew func(context.Context)) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				renew(context.WithoutCancel(ctx))
			}
		}
	}()
	return func() { close(done); <-stopped }
}
