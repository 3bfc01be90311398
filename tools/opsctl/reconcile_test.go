package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/reconcile"
)

// The demo table after a real commit reconciles clean (exit 0); one item
// moved by hand to another target account is reported by kind and id, and
// the command exits 1.
func TestReconcileExitsNonZeroOnViolation(t *testing.T) {
	ctx := context.Background()
	srv := mototest.Start(t)
	db := dynamodb.NewFromConfig(mototest.AWSConfig(srv.Endpoint))
	table, audit, err := stack.DeployTables(ctx, db, "../..")
	require.NoError(t, err)
	snap, err := migration.ParseSnapshot(bytes.NewReader(demo.Snapshot))
	require.NoError(t, err)
	store := dynamostore.New(db, table).WithAuditTable(audit)
	require.NoError(t, store.ImportSnapshot(ctx, snap))

	m := migration.New(migration.Deps{Store: store, Signal: stacktest.NopSignaller{}})
	alice := migration.AccountRef{Platform: "microapp", ID: "ma-1001"}
	res, err := m.Begin(ctx, migration.BeginInput{MigrationID: "m-reconcile", Source: alice, RequestedBy: "test", BatchKeys: []string{"subj-acme/developer"}})
	require.NoError(t, err)
	bid := res.BatchIDs[0]
	meta := migration.RequestMeta{SourceIP: "203.0.113.9", UserAgent: "test"}
	a, err := m.ViewAgreement(ctx, alice, meta)
	require.NoError(t, err)
	_, err = m.AcceptAgreement(ctx, alice, "m-reconcile", bid, a.Version, a.SHA256, meta)
	require.NoError(t, err)
	_, err = m.SelectTarget(ctx, alice, "m-reconcile", bid, migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-alice-1"})
	require.NoError(t, err)
	_, err = m.Confirm(ctx, alice, "m-reconcile", bid)
	require.NoError(t, err)
	p, err := m.Move(ctx, "m-reconcile", bid, time.Time{})
	require.NoError(t, err)
	require.True(t, p.Done)

	code, out := opsctl(t, srv.Endpoint, "reconcile", "--table", table)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "OK: no violations")
	assert.Regexp(t, `table MigrationTable: read \d+ records in \S+ \(4 segments\)`, out)
	assert.Contains(t, out, "1 batches")

	setItemHolder(t, db, table, "app#app-acme-shop", "tgt:developer:dev-alice-2")
	code, out = opsctl(t, srv.Endpoint, "reconcile", "--table", table, "--segments", "1")
	assert.Equal(t, exitFindings, code, out)
	assert.Regexp(t, `ITEM_NOT_AT_BATCH_TARGET\s+app#app-acme-shop\s+held by tgt:developer:dev-alice-2; batch `+bid+` moves to tgt:developer:dev-alice-1`, out)
	assert.Regexp(t, `ITEM_INDEX_MISMATCH\s+app#app-acme-shop\s+held by "tgt:developer:dev-alice-2" but filed in the index under "tgt:developer:dev-alice-1"`, out,
		"the hand edit did not move the index entry")
	assert.Contains(t, out, "FAIL: 2 violation(s): ITEM_INDEX_MISMATCH=1 ITEM_NOT_AT_BATCH_TARGET=1")

	code, out = opsctl(t, srv.Endpoint, "reconcile", "--table", table, "--json", "--recheck", "10ms")
	assert.Equal(t, exitFindings, code, out)
	var rep reconcile.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, []reconcile.Violation{
		{Kind: reconcile.ItemIndexMismatch, ID: "app#app-acme-shop", Detail: `held by "tgt:developer:dev-alice-2" but filed in the index under "tgt:developer:dev-alice-1"`},
		{Kind: reconcile.ItemNotAtBatchTarget, ID: "app#app-acme-shop", Detail: "held by tgt:developer:dev-alice-2; batch " + bid + " moves to tgt:developer:dev-alice-1"},
	}, rep.Violations, "violations that stay are still reported after the recheck")

	code, out = opsctl(t, srv.Endpoint, "reconcile", "--table", "NoSuchTable")
	assert.Equal(t, exitError, code, "could not look: not the same as found something")
	assert.Contains(t, out, "scan NoSuchTable")
}
