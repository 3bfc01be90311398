package client

import (
	"bytes"
	"encoding/json"
)

// decodeJSON decodes a body for schema checks (numbers as float64, as kin-openapi expects).
func decodeJSON(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
