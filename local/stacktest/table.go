package stacktest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"
)

// TableRows is every item of a table, read whole and consistently, each as
// JSON with its keys sorted: one string per content, so two reads of the
// same table compare equal, and a test can look for a value in any field.
// The order is the scan's.
func TableRows(t testing.TB, db *dynamodb.Client, table string) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, item := range page.Items {
			var m map[string]any
			require.NoError(t, attributevalue.UnmarshalMap(item, &m))
			b, err := json.Marshal(m)
			require.NoError(t, err)
			out = append(out, string(b))
		}
	}
	return out
}

// RowSet is TableRows as a set, for comparing two tables' contents.
func RowSet(t testing.TB, db *dynamodb.Client, table string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range TableRows(t, db, table) {
		out[r] = true
	}
	return out
}
