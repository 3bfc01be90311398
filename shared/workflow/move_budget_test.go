package workflow

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// One Move invocation works for MoveBudget at most, and never into the
// margin it keeps before the Lambda's deadline for the last chunk and the answer.
func TestMoveUntilTakesTheEarlierOfBudgetAndDeadline(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	deadline := now.Add(300 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	margin := deadline.Add(-60*time.Second - 2*time.Second) // a fifth of 300 s, and 2 s

	assert.Equal(t, margin, Steps{}.moveUntil(ctx, now), "no budget: the deadline's margin")
	assert.Equal(t, now.Add(2*time.Second), Steps{MoveBudget: 2 * time.Second}.moveUntil(ctx, now))
	assert.Equal(t, margin, Steps{MoveBudget: 270 * time.Second}.moveUntil(ctx, now), "a budget past the margin is cut to it")
	assert.Equal(t, now.Add(5*time.Second), Steps{MoveBudget: 5 * time.Second}.moveUntil(context.Background(), now), "no deadline: the budget")
	assert.True(t, Steps{}.moveUntil(context.Background(), now).IsZero(), "neither: until done")
}
