package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reads are sized against the table image; two recorded requests on one line
// (moto's recorder threads) are still two.
func TestReadUnitsAgainstTheImage(t *testing.T) {
	im := newImage()
	for _, id := range []string{"a1", "a2", "a3"} {
		im.put(map[string]string{"pk": "ITEM#app#" + id, "sk": "#", "holder": "src"}, 3000)
	}
	im.put(map[string]string{"pk": "ITEM#app#b1", "sk": "#", "holder": "other"}, 3000)
	query := map[string]any{"IndexName": "gsi1", "KeyConditionExpression": "#0 = :0",
		"ExpressionAttributeNames": map[string]string{"#0": "holder"}, "ExpressionAttributeValues": map[string]any{":0": map[string]string{"S": "src"}}}
	rec := recorded(t, "DynamoDB_20120810.Query", query) + recorded(t, "DynamoDB_20120810.GetItem", map[string]any{"Key": key("ITEM#app#b1"), "ConsistentRead": true}) + "\n" +
		recorded(t, "DynamoDB_20120810.GetItem", map[string]any{"Key": key("ITEM#app#zz")})
	ws, err := countWrites([]byte(strings.TrimSpace(rec)), im)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"Query": 1, "GetItem": 2}, ws.Reads)
	// 9,000 bytes from the index: 3 × 4 KB eventually consistent = 1.5;
	// 3,000 bytes strongly consistent = 1; an unknown key, the least: 0.5.
	assert.Equal(t, 1.5+1+0.5, ws.ReadUnits)
}
