package statemachine

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The walk itself: each kind of read that can find nothing is reported, and
// a variable guarded by IsPresent is not.
func TestWalkReportsEveryKindOfMissingPath(t *testing.T) {
	for name, tc := range map[string]struct {
		def  string
		want string
	}{
		"InputPath":      {`{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.nope","End":true}}}`, "InputPath"},
		"OutputPath":     {`{"StartAt":"A","States":{"A":{"Type":"Pass","OutputPath":"$.nope","End":true}}}`, "OutputPath"},
		"Parameters":     {`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"$.nope"},"End":true}}}`, "Parameters"},
		"ItemsPath":      {`{"StartAt":"A","States":{"A":{"Type":"Map","ItemsPath":"$.nope","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}}}`, "ItemsPath"},
		"Choice":         {`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.nope","BooleanEquals":true,"Next":"B"}],"Default":"B"},"B":{"Type":"Succeed"}}}`, "no IsPresent guards it"},
		"ResultSelector": {`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f:ListAssetsFunction","Payload":{}},"ResultSelector":{"a.$":"$.Payload.activeMigrationId"},"End":true}}}`, "ResultSelector"},
		"guarded":        {`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.nope","IsPresent":true},{"Variable":"$.nope","BooleanEquals":true}],"Next":"B"}],"Default":"B"},"B":{"Type":"Succeed"}}}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var asl map[string]any
			require.NoError(t, json.Unmarshal([]byte(tc.def), &asl))
			w := &walker{file: "t", problems: map[string]bool{}, allStates: map[string]bool{}, reached: map[string]bool{}}
			w.run("", asl, map[string]any{"here": 1}, map[string]any{})
			if tc.want == "" {
				require.Empty(t, w.problems)
				return
			}
			require.NotEmpty(t, w.problems)
			for p := range w.problems {
				require.Contains(t, p, tc.want)
			}
		})
	}
}
