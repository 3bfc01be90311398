package migration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// strictInput has the shapes the real inputs have: nested structs, a map of
// structs, a list, a pointer, raw JSON and an embedded struct.
type strictInput struct {
	Source  AccountRef        `json:"source"`
	Confirm *bool             `json:"confirm,omitempty"`
	Targets map[string]Target `json:"targets,omitempty"`
	Keys    []string          `json:"batchKeys,omitempty"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	strictEmbedded
}

type strictEmbedded struct {
	Note string `json:"note,omitempty"`
}

// Field names match exactly, a key is never duplicated at
// any depth, unknown fields and trailing data are refused; what v1 accepts
// stays accepted.
func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name, input string
		want        string // "" = accepted; else a substring of the error
	}{
		{"valid", `{"source":{"platform":"microapp","accountId":"ma-1"},"confirm":true,"targets":{"a/developer":{"mode":"new"}},"batchKeys":["a/developer"],"raw":{"x":[1,{"y":2}]},"note":"n"}`, ""},
		{"case_mismatch_top", `{"CONFIRM":true}`, `unknown field "CONFIRM" (field names are case-sensitive: "confirm")`},
		{"case_mismatch_nested", `{"source":{"platform":"microapp","ACCOUNTID":"ma-1"}}`, `source: unknown field "ACCOUNTID"`},
		{"case_mismatch_in_map_value", `{"targets":{"a/developer":{"Mode":"new"}}}`, `targets.a/developer: unknown field "Mode"`},
		{"case_mismatch_embedded", `{"Note":"n"}`, `unknown field "Note"`},
		{"duplicate_top", `{"confirm":false,"confirm":true}`, `duplicate key "confirm"`},
		{"duplicate_nested", `{"source":{"platform":"microapp","accountId":"a","accountId":"b"}}`, `source: duplicate key "accountId"`},
		{"duplicate_map_key", `{"targets":{"k":{"mode":"new"},"k":{"mode":"existing","accountId":"d"}}}`, `targets: duplicate key "k"`},
		{"duplicate_in_raw_depth", `{"raw":[{"a":1},{"b":{"c":1,"c":2}}]}`, `raw[1].b: duplicate key "c"`},
		{"unknown", `{"confirmed":true}`, `unknown field "confirmed"`},
		{"unknown_nested", `{"source":{"platform":"microapp","accountId":"a","x":1}}`, `source: unknown field "x"`},
		{"trailing_value", `{"confirm":true} {"confirm":false}`, "data after the JSON value"},
		{"trailing_garbage", `{"confirm":true}x`, ""},
		{"malformed", `{"confirm":tru}`, ""},
		{"wrong_type", `{"confirm":"yes"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v strictInput
			err := DecodeStrict([]byte(tc.input), &v)
			switch {
			case tc.name == "valid":
				require.NoError(t, err)
				assert.True(t, *v.Confirm)
				assert.Equal(t, "ma-1", v.Source.ID)
				assert.Equal(t, "n", v.Note)
			case tc.want == "":
				assert.Error(t, err, "refused")
			default:
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
			}
		})
	}
}

// The case rule follows the target: a map's keys are data, not field names.
func TestDecodeStrictMapKeysKeepTheirCase(t *testing.T) {
	var v map[string]bool
	require.NoError(t, DecodeStrict([]byte(`{"A":true,"a":false}`), &v))
	assert.Equal(t, map[string]bool{"A": true, "a": false}, v)
}

// A snapshot record with a duplicated key is refused, naming the record.
func TestParseSnapshotRefusesDuplicatedKey(t *testing.T) {
	input := strings.Replace(validSnapshotJSON, `"subjectId": "subj-b", "certified": true}],
  "services"`, `"subjectId": "subj-b", "certified": false, "certified": true}],
  "services"`, 1)
	require.NotEqual(t, validSnapshotJSON, input)
	_, err := ParseSnapshot(strings.NewReader(input))
	require.Error(t, err)
	assert.Equal(t, CodeInvalidInput, ErrorCode(err))
	assert.Contains(t, err.Error(), `apps[0]: duplicate key "certified"`)

	input = strings.Replace(validSnapshotJSON, `"amountCents": 9900`, `"AmountCents": 9900`, 1)
	_, err = ParseSnapshot(strings.NewReader(input))
	assert.ErrorContains(t, err, `orders[0]: unknown field "AmountCents"`)
}
