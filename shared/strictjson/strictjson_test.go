package strictjson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// strictInput has the shapes the real inputs have: nested structs, a map of
// structs, a list, a pointer, raw JSON and an embedded struct.
type strictInput struct {
	Source  account           `json:"source"`
	Confirm *bool             `json:"confirm,omitempty"`
	Targets map[string]target `json:"targets,omitempty"`
	Keys    []string          `json:"batchKeys,omitempty"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	strictEmbedded
}

// account and target stand for the domain's nested input types.
type account struct {
	Platform string `json:"platform"`
	ID       string `json:"accountId"`
}

type target struct {
	Mode      string `json:"mode"`
	AccountID string `json:"accountId,omitempty"`
}

type strictEmbedded struct {
	Note string `json:"note,omitempty"`
}

// Field names match exactly, a key is never duplicated at
// any depth, unknown fields and trailing data are refused; what v1 accepts
// stays accepted.
func TestDecode(t *testing.T) {
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
			err := Decode([]byte(tc.input), &v)
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
	require.NoError(t, Decode([]byte(`{"A":true,"a":false}`), &v))
	assert.Equal(t, map[string]bool{"A": true, "a": false}, v)
}
