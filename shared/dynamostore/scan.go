package dynamostore

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/inventory"
	"github.com/devplatform/account-migration/shared/migration"
)

// ScanAPI is the part of the DynamoDB client a full-table read needs. It is
// apart from API because only ops tools read the whole table; the functions
// never do (and their IAM policies need not allow it).
type ScanAPI interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// TableRecords is every record of the table the reconciliation check judges,
// plus the migrations (for listings) and how many other records there were.
type TableRecords struct {
	inventory.Records
	Migrations []migration.Migration
	Other      int // accounts, subjects, targets, locks, views, idempotency records
}

// ScanRecords reads the whole table, and each of more (the audit table), with
// segments parallel Scan paginators (1 when segments < 1). Reads are strongly
// consistent so a record written before the call is seen; the scan is still
// no snapshot of a changing table (see reconcile.Report.Intersect).
func ScanRecords(ctx context.Context, db ScanAPI, table string, segments int, more ...string) (TableRecords, error) {
	var out TableRecords
	seen := map[string]bool{"": true} // one-table stores name theirs twice
	for _, t := range append([]string{table}, more...) {
		if seen[t] {
			continue
		}
		seen[t] = true
		part, err := scanTable(ctx, db, t, segments)
		if err != nil {
			return TableRecords{}, err
		}
		out.merge(part)
	}
	return out, nil
}

func scanTable(ctx context.Context, db ScanAPI, table string, segments int) (TableRecords, error) {
	if segments < 1 {
		segments = 1
	}
	parts := make([]TableRecords, segments)
	var (
		firstErr error
		failOnce sync.Once
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) { // the cause, not the other segments' cancellations
		failOnce.Do(func() { firstErr = storeErr(err); cancel() })
	}
	var wg sync.WaitGroup
	for seg := range segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
			if segments > 1 {
				in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(segments))
			}
			p := dynamodb.NewScanPaginator(db, in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					fail(err) // the other segments' work is wasted now
					return
				}
				for _, row := range page.Items {
					parts[seg].add(row)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return TableRecords{}, firstErr
	}
	var out TableRecords
	for _, part := range parts {
		out.merge(part)
	}
	return out, nil
}

func (out *TableRecords) merge(part TableRecords) {
	out.Items = append(out.Items, part.Items...)
	out.Batches = append(out.Batches, part.Batches...)
	out.Audit = append(out.Audit, part.Audit...)
	out.Quotas = append(out.Quotas, part.Quotas...)
	out.Unreadable = append(out.Unreadable, part.Unreadable...)
	for k, v := range part.IndexHolders {
		if out.IndexHolders == nil {
			out.IndexHolders = map[string]string{}
		}
		out.IndexHolders[k] = v
	}
	out.Migrations = append(out.Migrations, part.Migrations...)
	out.Other += part.Other
}

// add sorts one raw record into its kind by its key (keys.go's layout). A
// record that does not decode is kept as unreadable: the check reports it
// rather than stopping at the first damaged record.
func (r *TableRecords) add(row map[string]types.AttributeValue) {
	pk, sk := stringAttr(row, attrPK), stringAttr(row, attrSK)
	var err error
	switch {
	case strings.HasPrefix(pk, "ITEM#"):
		var it migration.Item
		if err = attributevalue.UnmarshalMap(row, &it); err == nil {
			r.Items = append(r.Items, it)
			if r.IndexHolders == nil {
				r.IndexHolders = map[string]string{}
			}
			r.IndexHolders[it.Key()] = strings.TrimPrefix(stringAttr(row, attrGSI1PK), "HOLD#")
		}
	case strings.HasPrefix(pk, "MIGRATION#") && strings.HasPrefix(sk, "BATCH#"):
		var b migration.Batch
		if b, err = unmarshalBatch(row); err == nil {
			r.Batches = append(r.Batches, b)
		}
	case strings.HasPrefix(pk, "MIGRATION#") && sk == metaSK:
		var m migration.Migration
		if err = attributevalue.UnmarshalMap(row, &m); err == nil {
			r.Migrations = append(r.Migrations, m)
		}
	case strings.HasPrefix(pk, "AUDIT#"):
		var ev migration.AuditEvent
		if err = attributevalue.UnmarshalMap(row, &ev); err == nil {
			r.Audit = append(r.Audit, ev)
		}
	case strings.HasPrefix(pk, "QUOTA#"):
		var q struct {
			Used  int `dynamodbav:"used"`
			Limit int `dynamodbav:"limit"`
		}
		if err = attributevalue.UnmarshalMap(row, &q); err == nil {
			r.Quotas = append(r.Quotas, inventory.Quota{SubjectID: strings.TrimPrefix(pk, "QUOTA#"), Used: q.Used, Limit: q.Limit})
		}
	default:
		r.Other++
	}
	if err != nil {
		r.Unreadable = append(r.Unreadable, inventory.Unreadable{Key: pk + " " + sk, Error: err.Error()})
	}
}

func stringAttr(row map[string]types.AttributeValue, name string) string {
	if v, ok := row[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
