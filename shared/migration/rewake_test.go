package migration

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A wake is sent again only where nothing shows the workflow heard it: past
// the step, with neither the next wait parked nor the move begun.
func TestUnheardWake(t *testing.T) {
	tok := func(kv ...string) map[Step]string {
		m := map[Step]string{}
		for i := 0; i < len(kv); i += 2 {
			m[Step(kv[i])] = kv[i+1]
		}
		return m
	}
	for name, tc := range map[string]struct {
		b    Batch
		step Step
		tok  string
	}{
		"agreement done, target wait not parked":     {Batch{State: AwaitingTarget, Tokens: tok(string(StepAgreement), "a")}, StepAgreement, "a"},
		"agreement done, target wait parked (heard)": {Batch{State: AwaitingTarget, Tokens: tok(string(StepAgreement), "a", string(StepTarget), "t")}, "", ""},
		"target done, confirmation wait not parked":  {Batch{State: AwaitingConfirmation, Tokens: tok(string(StepTarget), "t")}, StepTarget, "t"},
		"confirmed, nothing moved yet":               {Batch{State: Committing, Tokens: tok(string(StepConfirmation), "c")}, StepConfirmation, "c"},
		"confirmed, moving (heard)":                  {Batch{State: Committing, Moved: 99, Tokens: tok(string(StepConfirmation), "c")}, "", ""},
		"stalled move: ops' to resume":               {Batch{State: Committing, Error: &BatchError{Code: CodeMoveStalled}, Tokens: tok(string(StepConfirmation), "c")}, "", ""},
		"still waiting for the agreement":            {Batch{State: AwaitingAgreement, Tokens: tok(string(StepAgreement), "a")}, "", ""},
		"committed":                                  {Batch{State: Committed, Tokens: tok(string(StepConfirmation), "c")}, "", ""},
	} {
		step, tk := unheardWake(tc.b)
		assert.Equal(t, tc.step, step, name)
		assert.Equal(t, tc.tok, tk, name)
	}
}
