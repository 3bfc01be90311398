package capplan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var small = Mix{Label: "test", Start: Phase{Transitions: 5, LambdaSeconds: 0.6, WRU: 7, StatePartitionWCU: 1},
	End: Phase{Transitions: 9, LambdaSeconds: 1.5, WRU: 231, StatePartitionWCU: 2, QuotaTransactions: 1, Events: 1}}

func TestOpsPopulationRunsAtTheStartRate(t *testing.T) {
	pl := Simulate(Population{Accounts: 100_000, StartsPerDay: 100_000, Mix: small}, AWSDefaults, 10*time.Second)
	assert.InDelta(t, 24, pl.Makespan.Hours(), 0.01)
	assert.InDelta(t, 24, pl.AllStarted.Hours(), 0.01)
	for _, u := range pl.Uses {
		assert.Zero(t, u.Throttled, u.Resource)
	}
	// 100,000 a day × 238 WRU = 275.5 WRU/s, the busiest against its limit.
	assert.Equal(t, ResTableWRU, pl.Uses[0].Resource, "the busiest")
}

func TestWaitingMigrationsHoldOpenExecutions(t *testing.T) {
	p := Population{Accounts: 1_000_000, StartsPerDay: 100_000, Responses: DeveloperResponses, Expire: 30 * 24 * time.Hour, Mix: small}
	pl := Simulate(p, AWSDefaults, 10*time.Second)
	assert.Equal(t, ResOpen, pl.Uses[0].Resource, "the busiest")
	assert.InDelta(t, 40, pl.Makespan.Hours()/24, 0.1, "10 days of starts, then the last ones expire after 30")
	again := Simulate(p, AWSDefaults, 10*time.Second)
	assert.Equal(t, pl.Makespan, again.Makespan, "deterministic")
}

func TestAnOpenExecutionLimitStopsStarts(t *testing.T) {
	q := AWSDefaults
	q.OpenExecutions = 1000
	p := Population{Accounts: 10_000, StartsPerDay: 1_000_000, Responses: []Response{{1, time.Hour}}, Expire: time.Hour, Mix: small}
	pl := Simulate(p, q, 10*time.Second)
	// 1,000 at a time, each open for an hour: ten hours.
	assert.InDelta(t, 10, pl.Makespan.Hours(), 0.2)
	var open Use
	for _, u := range pl.Uses {
		if u.Resource == ResOpen {
			open = u
		}
	}
	require.NotZero(t, open.Throttled)
}

func TestAHotItemThrottlesOneCompany(t *testing.T) {
	p := Population{Accounts: 50_000, StartsPerDay: 20_000_000, BigCompanyShare: 1, Mix: small}
	pl := Simulate(p, AWSDefaults, 10*time.Second)
	assert.Equal(t, ResQuotaTx, pl.Uses[0].Resource, "the busiest")
	// 50,000 transactions at 40 a second.
	assert.InDelta(t, 50_000.0/40/3600, pl.Makespan.Hours(), 0.05)
}

func TestMaxRateNamesTheFirstLimit(t *testing.T) {
	rate, r := MaxRate(Population{Accounts: 100_000, Mix: small}, AWSDefaults, 10*time.Second)
	assert.Equal(t, ResTableWRU, r)
	// 40,000 WRU/s over 238 WRU a migration, a day of it.
	assert.InDelta(t, 40000.0/238*86400, rate, 0.02*40000.0/238*86400)
}
