// Package events holds sample events for `sam local invoke -e`. The test keeps
// them in step with the handlers: each decodes strictly into its handler's
// input type, so a renamed field breaks here, not in someone's terminal.
package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/workflow"
)

func TestSampleEventsDecode(t *testing.T) {
	types := map[string]func() any{
		"list-assets.json":      func() any { return &workflow.BeginEvent{} },
		"split-by-subject.json": func() any { return &workflow.MigrationEvent{} },
		"record-agreement.json": func() any { return &workflow.WaitEvent{} },
		"select-target.json":    func() any { return &workflow.WaitEvent{} },
		"commit-await.json":     func() any { return &workflow.WaitEvent{} },
		"commit-move.json":      func() any { return &workflow.WaitEvent{} },
		"finish-summarize.json": func() any { return &workflow.FinishEvent{} },
		"finish-expire.json":    func() any { return &workflow.FinishEvent{} },
		"api-get-plan.json":     func() any { return &events.APIGatewayV2HTTPRequest{} },
		"api-commit.json":       func() any { return &events.APIGatewayV2HTTPRequest{} },
	}
	files, err := filepath.Glob("*.json")
	require.NoError(t, err)
	files = slices.DeleteFunc(files, func(f string) bool { return f == "env.json" }) // not an event: env_test.go
	require.Len(t, files, len(types), "every sample event has a type here")
	for _, f := range files {
		newT, ok := types[f]
		require.True(t, ok, "no handler type for %s", f)
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(newT()), f)
	}
	var begin workflow.BeginEvent
	raw, _ := os.ReadFile("list-assets.json")
	require.NoError(t, json.Unmarshal(raw, &begin))
	_, err = workflow.ParseExecutionInput(begin.Input)
	require.NoError(t, err, "the sample execution input is valid")
}
