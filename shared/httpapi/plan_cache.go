package httpapi

// GET /v1/plan without reading every holding on every call. The plan of an
// account changes when what it holds changes: its own migration moves items
// (the latest migration's batches, their states and counts moved, say when)
// or an import adds records (nothing per account says when: the entry's age
// bounds that). An entry is served while both hold; a new key reads again.

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devplatform/account-migration/shared/migration"
)

// PlanCacheTTL bounds how long a plan is served after an import could have
// changed it; PlanCacheEntries how many accounts one instance remembers.
const (
	PlanCacheTTL     = 60 * time.Second
	PlanCacheEntries = 1000
)

type planEntry struct {
	key  string
	plan migration.Plan
	at   time.Time
}

// planCache is one Lambda instance's memory of recent plans, by account.
type planCache struct {
	mu      sync.Mutex
	entries map[migration.AccountRef]planEntry
}

// planKey is what invalidates an account's plan, read in two small queries
// (the latest migration, its batches) instead of every holding.
func (a *API) planKey(ctx context.Context, src migration.AccountRef) (string, error) {
	if a.Ops == nil {
		return "", nil
	}
	m, err := a.Ops.LatestMigration(ctx, src)
	if migration.IsCode(err, migration.CodeNotFound) {
		return "none", nil
	} else if err != nil {
		return "", err
	}
	bs, err := a.Migrator.BatchesOf(ctx, m.MigrationID)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(m.MigrationID)
	for _, x := range bs {
		b.WriteString("|" + x.BatchID + ":" + string(x.State) + ":" + strconv.Itoa(x.Moved) + ":" + x.UpdatedAt)
	}
	return b.String(), nil
}

// cachedPlan answers the account's plan from memory when its key still holds
// and the entry is younger than PlanCacheTTL, else reads it and remembers it.
func (a *API) cachedPlan(ctx context.Context, src migration.AccountRef) (migration.Plan, error) {
	key, err := a.planKey(ctx, src)
	if err != nil || key == "" {
		return a.Migrator.Plan(ctx, src)
	}
	now := time.Now()
	c := &a.plans
	c.mu.Lock()
	e, ok := c.entries[src]
	c.mu.Unlock()
	if ok && e.key == key && now.Sub(e.at) < PlanCacheTTL {
		return e.plan, nil
	}
	p, err := a.Migrator.Plan(ctx, src)
	if err != nil {
		return p, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[migration.AccountRef]planEntry{}
	}
	if len(c.entries) >= PlanCacheEntries {
		for k := range c.entries { // forget one, any: the next read fills it again
			delete(c.entries, k)
			break
		}
	}
	c.entries[src] = planEntry{key: key, plan: p, at: now}
	return p, nil
}
