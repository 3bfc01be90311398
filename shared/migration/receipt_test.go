package migration

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonicalItemsAreSortedJSONLines(t *testing.T) {
	items := []ReceiptItem{
		{Type: ItemOrder, ID: "ord-1", AssetID: "app-1"},
		{Type: ItemApp, ID: "app-2", Kind: "miniprogram", Name: "Tom & Jerry <shop>"},
		{Type: ItemApp, ID: "app-1", Kind: "miniprogram", Name: "Shop"},
		{Type: ItemMember, ID: "m-1", AssetID: "app-9", Role: RoleAdmin},
	}
	got := string(CanonicalItems(items))
	want := `{"id":"app-1","kind":"miniprogram","name":"Shop","type":"app"}` + "\n" +
		`{"id":"app-2","kind":"miniprogram","name":"Tom & Jerry <shop>","type":"app"}` + "\n" +
		`{"assetId":"app-9","id":"m-1","role":"admin","type":"member"}` + "\n" +
		`{"assetId":"app-1","id":"ord-1","type":"order"}` + "\n"
	require.Equal(t, want, got)
	sum := sha256.Sum256([]byte(want))
	assert.Equal(t, hex.EncodeToString(sum[:]), ReceiptSHA256(items))
	assert.Equal(t, ItemOrder, items[0].Type, "the caller's slice keeps its order")

	// The hash changes with any item, and not with the order given.
	swapped := []ReceiptItem{items[3], items[2], items[1], items[0]}
	assert.Equal(t, ReceiptSHA256(items), ReceiptSHA256(swapped))
	assert.NotEqual(t, ReceiptSHA256(items), ReceiptSHA256(items[:3]))
}

func TestOffsetCursor(t *testing.T) {
	n, err := decodeOffset(encodeOffset(1200))
	require.NoError(t, err)
	assert.Equal(t, 1200, n)
	for _, bad := range []string{"x", encodeOffset(-1), "bz06MQ"} {
		_, err := decodeOffset(bad)
		assert.Equal(t, CodeInvalidInput, ErrorCode(err), bad)
	}
}
