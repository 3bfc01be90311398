package s3store_test

import (
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/s3store"
)

// A manifest is the receipt's canonical list, byte for byte, with its hash
// beside it; a body that does not match the hash is never written.
func TestManifestIsTheCanonicalListWithItsHash(t *testing.T) {
	ctx := context.Background()
	srv := mototest.Start(t)
	client := s3.NewFromConfig(mototest.AWSConfig(srv.Endpoint), func(o *s3.Options) { o.UsePathStyle = true })
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("handoff")})
	require.NoError(t, err)

	items := []migration.ReceiptItem{{Type: migration.ItemApp, ID: "app-1", Kind: "miniprogram", Name: "Shop"}, {Type: migration.ItemOrder, ID: "ord-1", AssetID: "app-1"}}
	body, sum := migration.CanonicalItems(items), migration.ReceiptSHA256(items)
	m := &s3store.Manifests{API: client, Bucket: "handoff"}
	key := migration.ManifestKey("m-1", "b-1")
	loc, err := m.PutManifest(ctx, key, body, sum)
	require.NoError(t, err)
	assert.Equal(t, "s3://handoff/manifests/m-1/b-1.jsonl", loc.URI)
	// Written again (a retried step): the same object.
	_, err = m.PutManifest(ctx, key, body, sum)
	require.NoError(t, err)

	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("handoff"), Key: aws.String(key)})
	require.NoError(t, err)
	got, err := io.ReadAll(obj.Body)
	require.NoError(t, err)
	assert.Equal(t, body, got)
	assert.Equal(t, sum, obj.Metadata["sha256"])
	assert.Equal(t, "application/x-ndjson", aws.ToString(obj.ContentType))

	_, err = m.PutManifest(ctx, migration.ManifestKey("m-1", "b-2"), body, migration.ReceiptSHA256(items[:1]))
	require.Error(t, err)
	_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("handoff"), Key: aws.String(migration.ManifestKey("m-1", "b-2"))})
	assert.Error(t, err, "nothing written under a wrong hash")
}
