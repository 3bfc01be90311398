package dynamostore_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// A table after a real commit passes the reconciliation check, however many
// segments read it; one item moved by hand to another account, or a record
// damaged beyond decoding, is reported by kind and id.
func TestScanRecordsReconcile(t *testing.T) {
	snap := aliceApps(3).
		account("microapp", "ma-2", "bob@example.com", "").
		target("developer", "dev-1", "alice@example.com", migration.OnboardingCompleted, "").build(t)
	e := newEnv(t, snap)
	b := e.readyBatch(t, alice, "subj-a/developer", migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"})
	_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
	require.NoError(t, err)
	e.moveAll(t, b)

	one, err := dynamostore.ScanRecords(e.ctx, e.db, e.store.Table(), 1, e.store.AuditTable())
	require.NoError(t, err)
	rep := reconcile.Check(one.Records, time.Now())
	require.True(t, rep.OK(), rep.Text())
	assert.Equal(t, map[string]int{"items": 9, "batches": 1, "quotas": 1, "auditEvents": 6}, rep.Checked,
		"3 apps, 3 data sets, 3 orders; MIGRATION_STARTED, AGREEMENT_VIEWED, AGREEMENT_ACCEPTED, TARGET_SELECTED, COMMIT_STARTED, BATCH_COMMITTED")
	assert.Len(t, one.Migrations, 1)
	assert.Positive(t, one.Other, "subjects, accounts, targets, locks, views are counted, not checked")
	assert.Equal(t, reconcile.Quota{SubjectID: "subj-a", Used: 3, Limit: 10}, one.Quotas[0])

	four, err := dynamostore.ScanRecords(e.ctx, e.db, e.store.Table(), 4, e.store.AuditTable())
	require.NoError(t, err)
	assert.Equal(t, rep.Checked, reconcile.Check(four.Records, time.Now()).Checked, "parallel segments read the same records")
	assert.Equal(t, one.Other, four.Other)

	// Corrupt one item: held by another target account than its batch chose.
	_, err = e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.store.Table()),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#app#app-1"}, "sk": &types.AttributeValueMemberS{Value: "#"}},
		UpdateExpression:          aws.String("SET holder = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: "tgt:developer:dev-x"}}})
	require.NoError(t, err)
	// And damage another beyond decoding.
	_, err = e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.store.Table()),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#order#ord-app-2"}, "sk": &types.AttributeValueMemberS{Value: "#"}},
		UpdateExpression:          aws.String("SET amountCents = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: "a lot"}}})
	require.NoError(t, err)

	bad, err := dynamostore.ScanRecords(e.ctx, e.db, e.store.Table(), 2, e.store.AuditTable())
	require.NoError(t, err)
	rep = reconcile.Check(bad.Records, time.Now())
	assert.True(t, rep.Has(reconcile.ItemNotAtBatchTarget, "app#app-1"), rep.Text())
	assert.True(t, rep.Has(reconcile.ItemIndexMismatch, "app#app-1"), "the hand edit left the index entry behind: %s", rep.Text())
	assert.True(t, rep.Has(reconcile.RecordUnreadable, "ITEM#order#ord-app-2 #"), rep.Text())
	assert.True(t, rep.Has(reconcile.BatchItemsMismatch, b.MigrationID+"/"+b.BatchID), "the damaged order no longer counts as moved: %s", rep.Text())
	assert.Len(t, rep.Violations, 4, rep.Text())
}
