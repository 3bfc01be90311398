package client

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The typed client reads every example of the spec (real answers of the
// stack) field for field: decoding refuses none of it and encoding gives it
// back unchanged, so no field is unknown to the types or lost by them.
func TestTypesRoundTripTheSpecExamples(t *testing.T) {
	doc, err := Spec()
	require.NoError(t, err)
	types := map[string]func() any{
		"healthz-200": func() any { return &Health{} }, "listAssets-200": func() any { return &Assets{} },
		"getPlan-200": func() any { return &Plan{} }, "startMigration-200": func() any { return &Started{} },
		"startMigration-202": func() any { return &Started{} }, "getMigration-200": func() any { return &Migration{} },
		"reviewBatch-200": func() any { return &Review{} }, "getAgreement-200": func() any { return &Agreement{} },
		"acceptAgreement-200": func() any { return &Batch{} }, "listTargets-200": func() any { return &Targets{} },
		"selectTarget-200": func() any { return &Batch{} }, "commitBatch-202": func() any { return &Batch{} },
		"getTargetAccount-200": func() any { return &TargetAccount{} }, "opsGetAccountMigration-200": func() any { return &Migration{} },
		"listMigrations-200": func() any { return &History{} }, "getReceipt-200": func() any { return &Receipt{} },
	}
	require.Len(t, doc.Components.Examples, len(types), "a Go type for every example")
	for name, ex := range doc.Components.Examples {
		newT, ok := types[name]
		require.True(t, ok, "no Go type for example %s", name)
		want, err := json.Marshal(ex.Value.Value)
		require.NoError(t, err)
		v := newT()
		dec := json.NewDecoder(bytes.NewReader(want))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(v), name)
		got, err := json.Marshal(v)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got), name)
	}
}
