// Package s3store is the S3 adapter: it keeps the committed batches'
// manifests, the lists the new platforms read.
package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/devplatform/account-migration/shared/migration"
)

// API is the part of the S3 client used here.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Manifests implements migration.Manifests in one bucket.
type Manifests struct {
	API    API
	Bucket string
	// Owner is the account id the bucket must belong to (S3 refuses the write
	// otherwise); "" checks nothing.
	Owner string
}

var _ migration.Manifests = (*Manifests)(nil)

// PutManifest writes body as JSON Lines with its SHA-256 both as S3's own
// checksum (S3 refuses bytes that do not match it) and as metadata a reader
// can compare with the event's and the receipt's hash.
func (m *Manifests) PutManifest(ctx context.Context, key string, body []byte, sha string) (migration.Manifest, error) {
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != sha {
		return migration.Manifest{}, fmt.Errorf("manifest %s: the body does not hash to %s", key, sha)
	}
	in := &s3.PutObjectInput{Bucket: aws.String(m.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType:    aws.String("application/x-ndjson"),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Metadata:       map[string]string{"sha256": sha}}
	if m.Owner != "" {
		in.ExpectedBucketOwner = aws.String(m.Owner)
	}
	if _, err := m.API.PutObject(ctx, in); err != nil {
		return migration.Manifest{}, err
	}
	return migration.Manifest{Bucket: m.Bucket, Key: key, URI: "s3://" + m.Bucket + "/" + key, SHA256: sha, Bytes: len(body)}, nil
}

// FromEnv is the manifest store in the bucket MANIFEST_BUCKET names (owned by
// MANIFEST_BUCKET_OWNER when set), nil when unset. A custom endpoint (the
// local stack's) is addressed path-style.
func FromEnv(cfg aws.Config) migration.Manifests {
	bucket := os.Getenv("MANIFEST_BUCKET")
	if bucket == "" {
		return nil
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	return &Manifests{API: client, Bucket: bucket, Owner: os.Getenv("MANIFEST_BUCKET_OWNER")}
}
