package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// ImportSnapshot writes a validated snapshot: subjects, accounts, every item
// placed by migration.Place, and the target accounts. Validation happened
// before (migration.ParseSnapshot), so a bad snapshot writes nothing. Loading
// is meant for seeding: records with the same ids are overwritten.
func (s *Store) ImportSnapshot(ctx context.Context, snap *migration.Snapshot) error {
	if err := snap.Validate(); err != nil {
		return err
	}
	var rows []map[string]types.AttributeValue
	add := func(v any, keys map[string]string) error {
		av, err := record(v, keys)
		if err != nil {
			return err
		}
		rows = append(rows, av)
		return nil
	}
	for _, x := range snap.Subjects {
		if err := add(x, map[string]string{attrPK: subjectPK(x.ID), attrSK: metaSK}); err != nil {
			return err
		}
	}
	for _, x := range snap.Accounts {
		if err := add(x, map[string]string{attrPK: accountPK(migration.AccountRef{Platform: string(x.Platform), ID: x.ID}), attrSK: metaSK}); err != nil {
			return err
		}
	}
	for _, it := range migration.Place(snap) {
		keys := map[string]string{attrPK: itemPK(it.Type, it.ID), attrSK: metaSK, attrGSI1PK: holdPK(it.Holder), attrGSI1SK: heldSK(it)}
		if it.Type == migration.ItemMember && it.AppHolder != "" {
			bk := it.AppBatchKey
			if bk == "" {
				bk = skippedKey
			}
			keys[attrGSI2PK], keys[attrGSI2SK] = followPK(it.AppHolder), bk+"#"+it.ID
		}
		if err := add(it, keys); err != nil {
			return err
		}
	}
	for _, t := range snap.TargetAccounts {
		av, err := targetRecord(t)
		if err != nil {
			return err
		}
		rows = append(rows, av)
		if hr, err := heldRow(t); err != nil {
			return err
		} else if hr != nil {
			rows = append(rows, hr) // its holdings count against the subject's quota
		}
	}
	return s.batchPut(ctx, rows)
}

// batchPut writes rows 25 at a time (BatchWriteItem's limit), resending what
// DynamoDB leaves unprocessed with a growing pause.
func (s *Store) batchPut(ctx context.Context, rows []map[string]types.AttributeValue) error {
	for start := 0; start < len(rows); start += 25 {
		end := min(start+25, len(rows))
		reqs := make([]types.WriteRequest, 0, end-start)
		for _, r := range rows[start:end] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: r}})
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("import: %d writes left unprocessed", len(pending[s.table]))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return storeErr(err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
