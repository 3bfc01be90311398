package importer

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/devplatform/account-migration/shared/migration"
)

// S3API is what S3Source needs of the S3 client.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Source is every object under a prefix, in key order, each a snapshot or
// JSON Lines; a record is named by its object and line. Each pass lists and
// reads the objects again (streamed, never held whole).
type S3Source struct {
	API            S3API
	Bucket, Prefix string
}

func (s S3Source) Each(ctx context.Context, fn func(migration.Record, error) error) error {
	p := s3.NewListObjectsV2Paginator(s.API, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(s.Prefix)})
	found := false
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", s.Bucket, s.Prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if aws.ToInt64(obj.Size) == 0 {
				continue // a "folder" marker
			}
			found = true
			out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
			}
			err = ReadRecords(ctx, out.Body, fmt.Sprintf("s3://%s/%s ", s.Bucket, key), fn)
			out.Body.Close()
			if err != nil {
				return err
			}
		}
	}
	if !found {
		return fmt.Errorf("no objects under s3://%s/%s", s.Bucket, s.Prefix)
	}
	return nil
}
