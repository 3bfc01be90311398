package migration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type probe struct {
	alive, running bool
	err            error
	asked          []string
}

func (p *probe) Succeed(context.Context, string, any) error         { return nil }
func (p *probe) Fail(context.Context, string, string, string) error { return nil }
func (p *probe) WaitAlive(_ context.Context, tok string) (bool, error) {
	p.asked = append(p.asked, "wait "+tok)
	return p.alive, p.err
}
func (p *probe) ExecutionRunning(_ context.Context, arn string) (bool, error) {
	p.asked = append(p.asked, "execution "+arn)
	return p.running, p.err
}

type signalOnly struct{}

func (signalOnly) Succeed(context.Context, string, any) error         { return nil }
func (signalOnly) Fail(context.Context, string, string, string) error { return nil }

// An action on a waiting batch is refused with WORKFLOW_GONE when the wait it
// would end has ended (the batch's child execution failed, timed out or was
// stopped) or the migration's execution no longer runs; a token that may be
// an earlier wait's, right after the batch changed, is not proof on its own.
func TestActionsAreRefusedWhenTheWorkflowIsGone(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	old, recent := now.Add(-time.Hour).Format(time.RFC3339Nano), now.Add(-10*time.Second).Format(time.RFC3339Nano)
	m := Migration{MigrationID: "m-1", ExecutionArn: "arn:exec"}
	waiting := func(updated string, tok string) Batch {
		b := Batch{MigrationID: "m-1", BatchID: "b-1", BatchKey: "subj/developer", State: AwaitingConfirmation, UpdatedAt: updated, Tokens: map[Step]string{}}
		if tok != "" {
			b.Tokens[StepConfirmation] = tok
		}
		return b
	}
	for name, tc := range map[string]struct {
		p     probe
		b     Batch
		want  Code // "" = allowed
		asked []string
	}{
		"parked wait alive":                          {probe{alive: true}, waiting(old, "tok"), "", []string{"wait tok"}},
		"parked wait ended long ago":                 {probe{running: true}, waiting(old, "tok"), CodeWorkflowGone, []string{"wait tok"}},
		"wait ended just after a change, runs":       {probe{running: true}, waiting(recent, "tok"), "", []string{"wait tok", "execution arn:exec"}},
		"wait ended just after a change, stopped":    {probe{}, waiting(recent, "tok"), CodeWorkflowGone, []string{"wait tok", "execution arn:exec"}},
		"not parked yet, execution runs":             {probe{running: true}, waiting(old, ""), "", []string{"execution arn:exec"}},
		"not parked yet, execution ended":            {probe{}, waiting(old, ""), CodeWorkflowGone, []string{"execution arn:exec"}},
		"Step Functions unreachable: try again":      {probe{err: errors.New("throttled")}, waiting(old, "tok"), CodeUnavailable, []string{"wait tok"}},
		"past the point of no return: nothing asked": {probe{}, Batch{State: Committing, Tokens: map[Step]string{StepConfirmation: "tok"}}, "", nil},
	} {
		t.Run(name, func(t *testing.T) {
			p := tc.p
			s := New(Deps{Signal: &p, Now: func() time.Time { return now }})
			err := s.workflowAlive(context.Background(), m, tc.b)
			if tc.want == "" {
				assert.NoError(t, err)
			} else {
				assert.Equal(t, tc.want, ErrorCode(err), "%v", err)
			}
			assert.Equal(t, tc.asked, p.asked)
		})
	}
	s := New(Deps{Signal: signalOnly{}})
	assert.NoError(t, s.workflowAlive(context.Background(), m, waiting(old, "tok")), "a Signaller that cannot tell refuses nothing")
}
