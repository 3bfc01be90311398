package migration

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The subject id "personal" is reserved (the batch key of
// collaborators without a subject), and target accounts may say how many
// mini-programs they already hold (docs/CONTRACT.md §4).
func TestSnapshotPersonalAndMiniprograms(t *testing.T) {
	personal := edit(t, func(m map[string]any) {
		subjects := m["subjects"].([]any)
		m["subjects"] = append(subjects, map[string]any{"id": "personal", "name": "Personal", "kind": "person", "certified": true})
	})
	_, err := ParseSnapshot(strings.NewReader(personal))
	require.Equal(t, CodeInvalidInput, ErrorCode(err), "%v", err)
	assert.Contains(t, err.Error(), `subjects[2] (id "personal")`)

	held := edit(t, func(m map[string]any) {
		m["targetAccounts"].([]any)[0].(map[string]any)["miniprograms"] = 2
	})
	snap, err := ParseSnapshot(strings.NewReader(held))
	require.NoError(t, err)
	assert.Equal(t, 2, snap.TargetAccounts[0].MiniPrograms)

	negative := edit(t, func(m map[string]any) {
		m["targetAccounts"].([]any)[0].(map[string]any)["miniprograms"] = -1
	})
	_, err = ParseSnapshot(strings.NewReader(negative))
	require.Equal(t, CodeInvalidInput, ErrorCode(err))
	assert.Contains(t, err.Error(), `targetAccounts[0] (id "dev-1")`)
}

// Ops targets must name batches the input selects; the
// refusal names every one it would otherwise ignore.
func TestOpsTargetsOutsideBatchKeys(t *testing.T) {
	plan := Plan{Eligible: true, Batches: []PlannedBatch{{BatchKey: "a/developer"}, {BatchKey: "b/developer"}, {BatchKey: "c/partner"}}}
	o := &OpsInstructions{Targets: map[string]Target{
		"a/developer": {Mode: TargetModeNew}, "b/developer": {Mode: TargetModeNew}, "c/partner": {Mode: TargetModeNew}}}
	err := o.validate(plan, []string{"a/developer"})
	require.Equal(t, CodeInvalidInput, ErrorCode(err))
	assert.Contains(t, err.Error(), "b/developer, c/partner")
	require.NoError(t, o.validate(plan, nil), "no batchKeys: every batch is selected")
	require.NoError(t, o.validate(plan, []string{"a/developer", "b/developer", "c/partner"}))
}
