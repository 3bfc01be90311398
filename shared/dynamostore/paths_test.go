package dynamostore_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// The less-travelled paths of the one-way commit.

func (e *env) batchByKey(t *testing.T, migrationID, key string) migration.Batch {
	t.Helper()
	bs, err := e.store.Batches(e.ctx, migrationID)
	require.NoError(t, err)
	for _, b := range bs {
		if b.BatchKey == key {
			return b
		}
	}
	t.Fatalf("no batch %s in %s", key, migrationID)
	return migration.Batch{}
}

func (e *env) accept(t *testing.T, src migration.AccountRef, b migration.Batch) {
	t.Helper()
	a, err := e.m.ViewAgreement(e.ctx, src, migration.RequestMeta{})
	require.NoError(t, err)
	_, err = e.m.AcceptAgreement(e.ctx, src, b.MigrationID, b.BatchID, a.Version, a.SHA256, migration.RequestMeta{})
	require.NoError(t, err)
}

func (e *env) quotaUsed(t *testing.T, subjectID string) (int, bool) {
	t.Helper()
	res, err := e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String(e.store.Table()), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "QUOTA#" + subjectID}, "sk": &types.AttributeValueMemberS{Value: "developer#miniprogram"}}})
	require.NoError(t, err)
	if res.Item == nil {
		return 0, false
	}
	var q struct {
		Used int `dynamodbav:"used"`
	}
	require.NoError(t, attributevalue.UnmarshalMap(res.Item, &q))
	return q.Used, true
}

func twoSubjects(t *testing.T) *migration.Snapshot {
	return newFixture().subject("subj-a", migration.SubjectCompany).subject("subj-b", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").
		miniprograms("microapp", "ma-1", "subj-a", "a", 1).
		miniprograms("microapp", "ma-1", "subj-b", "b", 1).
		target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "").build(t)
}

// Item 5: with confirm: true, ops confirm only the batches they targeted; a
// batch whose target the developer chose waits for the developer's own
// confirmation.
func TestOpsConfirmOnlyWhatTheyTargeted(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	ops := &migration.OpsInstructions{Confirm: true, Targets: map[string]migration.Target{"subj-a/developer": {Mode: migration.TargetModeNew}}}
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
	require.NoError(t, err)
	ba, bb := e.batchByKey(t, "m-1", "subj-a/developer"), e.batchByKey(t, "m-1", "subj-b/developer")
	e.accept(t, alice, ba)
	e.accept(t, alice, bb)

	got, err := e.m.Await(e.ctx, "m-1", ba.BatchID, migration.StepTarget, "a-target")
	require.NoError(t, err)
	require.Equal(t, migration.AwaitingConfirmation, got.State, "the ops target applied")
	got, err = e.m.Await(e.ctx, "m-1", ba.BatchID, migration.StepConfirmation, "a-confirm")
	require.NoError(t, err)
	assert.Equal(t, migration.Committing, got.State, "ops confirm what they targeted")
	assert.True(t, e.signal.didSucceed("a-confirm"))

	_, err = e.m.SelectTarget(e.ctx, alice, "m-1", bb.BatchID, migration.Target{Mode: migration.TargetModeNew})
	require.NoError(t, err)
	got, err = e.m.Await(e.ctx, "m-1", bb.BatchID, migration.StepConfirmation, "b-confirm")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingConfirmation, got.State, "the developer's own target waits for the developer's confirmation")
	assert.False(t, e.signal.didSucceed("b-confirm"))
	assert.Len(t, e.items(t, bb.SourceHolder(), bb.BatchKey), 3, "nothing of it moved")
	assert.Len(t, auditEvents(t, e, alice, migration.EventCommitStarted), 1)
}

// Item 11: targets for batches batchKeys leaves out are refused, naming them,
// with nothing written; batchKeys for an account that needs no migration end
// NO_MIGRATION_NEEDED.
func TestOpsInputSaysWhatItIgnores(t *testing.T) {
	bob := migration.AccountRef{Platform: "microapp", ID: "ma-2"}
	snap := newFixture().subject("subj-a", migration.SubjectCompany).subject("subj-b", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").
		account("microapp", "ma-2", "bob@example.com", "subj-a").
		miniprograms("microapp", "ma-1", "subj-a", "a", 1).
		miniprograms("microapp", "ma-1", "subj-b", "b", 1).build(t)
	e := newEnv(t, snap)
	ops := &migration.OpsInstructions{Targets: map[string]migration.Target{
		"subj-a/developer": {Mode: migration.TargetModeNew}, "subj-b/developer": {Mode: migration.TargetModeNew}}}
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice",
		BatchKeys: []string{"subj-a/developer"}, Ops: ops})
	require.Equal(t, migration.CodeInvalidInput, migration.ErrorCode(err), "%v", err)
	assert.Contains(t, err.Error(), "subj-b/developer")
	_, err = e.store.Migration(e.ctx, "m-1")
	assert.Equal(t, migration.CodeNotFound, migration.ErrorCode(err), "nothing written")

	res, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-2", Source: bob, RequestedBy: "ops:bob",
		BatchKeys: []string{"subj-a/developer"}, Ops: &migration.OpsInstructions{Confirm: true}})
	require.NoError(t, err, "an account with nothing to migrate is an answer, not an error")
	assert.False(t, res.Eligible)
	m, batches, err := e.m.OwnMigration(e.ctx, bob, "m-2")
	require.NoError(t, err)
	assert.Empty(t, batches)
	assert.Equal(t, migration.MigrationNoMigrationNeeded, e.m.State(m, batches))
}

// hookStore runs before once, just before the first transition that records
// an acceptance: a deterministic race between two acceptances.
type hookStore struct {
	migration.Store
	once   sync.Once
	before func()
}

func (h *hookStore) Transition(ctx context.Context, t migration.Transition) (migration.Batch, error) {
	if t.Agreement != nil {
		h.once.Do(h.before)
	}
	return h.Store.Transition(ctx, t)
}

// Item 7: an ops-recorded agreement racing the developer's own acceptance:
// both succeed, the acceptance is recorded once.
func TestOpsAcceptanceRacesDeveloper(t *testing.T) {
	for _, opsFirst := range []bool{false, true} {
		t.Run(map[bool]string{false: "developer first", true: "ops first"}[opsFirst], func(t *testing.T) {
			e := newEnv(t, twoSubjects(t))
			a := migration.CurrentAgreement()
			ops := &migration.OpsInstructions{Agreement: &migration.OpsAgreement{Version: a.Version, AcceptedBy: "alice (phone)", Evidence: "ticket-1"}}
			_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
			require.NoError(t, err)
			b := e.batchByKey(t, "m-1", "subj-a/developer")
			_, err = e.m.ViewAgreement(e.ctx, alice, migration.RequestMeta{})
			require.NoError(t, err)
			developer := func() error {
				_, err := e.m.AcceptAgreement(e.ctx, alice, "m-1", b.BatchID, a.Version, a.SHA256, migration.RequestMeta{})
				return err
			}
			opsWait := func() error {
				_, err := e.m.Await(e.ctx, "m-1", b.BatchID, migration.StepAgreement, "tok")
				return err
			}
			// The one that goes first runs inside the other's transition.
			var firstErr error
			first := map[bool]func() error{false: developer, true: opsWait}[opsFirst]
			racer := migration.New(migration.Deps{Store: &hookStore{Store: e.store, before: func() { firstErr = first() }}, Signal: e.signal})
			if opsFirst {
				_, err = racer.AcceptAgreement(e.ctx, alice, "m-1", b.BatchID, a.Version, a.SHA256, migration.RequestMeta{})
			} else {
				_, err = racer.Await(e.ctx, "m-1", b.BatchID, migration.StepAgreement, "tok")
			}
			require.NoError(t, firstErr)
			require.NoError(t, err, "the one that lost the race still succeeds")
			got, err := e.store.Batch(e.ctx, "m-1", b.BatchID)
			require.NoError(t, err)
			assert.Equal(t, migration.AwaitingTarget, got.State)
			assert.Len(t, auditEvents(t, e, alice, migration.EventAgreementAccepted), 1, "recorded once")
		})
	}
}

// Item 7: the audit pairs a version with that version's hash. An ops
// agreement of a version no longer in force is not recorded with the hash of
// the text in force: it is not applied, the developer accepts the one in force.
func TestOpsAcceptancePairsVersionWithItsHash(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	a := migration.CurrentAgreement()
	ops := &migration.OpsInstructions{Agreement: &migration.OpsAgreement{Version: a.Version, AcceptedBy: "alice (phone)", Evidence: "ticket-1"}}
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
	require.NoError(t, err)
	m, err := e.store.Migration(e.ctx, "m-1")
	require.NoError(t, err)
	require.NotNil(t, m.Ops.Agreement)
	assert.Equal(t, a.SHA256, m.Ops.Agreement.SHA256, "the hash of the version ops named is kept with it")

	// The agreement in force changes while the migration waits: its record
	// names a version whose text is no longer the embedded one.
	_, err = e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.store.Table()),
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "MIGRATION#m-1"}, "sk": &types.AttributeValueMemberS{Value: "#"}},
		UpdateExpression: aws.String("SET ops.agreement.version = :v, ops.agreement.sha256 = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "2020-01-01"},
			":h": &types.AttributeValueMemberS{Value: strings.Repeat("0", 64)}}})
	require.NoError(t, err)
	b := e.batchByKey(t, "m-1", "subj-a/developer")
	got, err := e.m.Await(e.ctx, "m-1", b.BatchID, migration.StepAgreement, "tok")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingAgreement, got.State, "waits for the developer")
	for _, ev := range auditEvents(t, e, alice, migration.EventAgreementAccepted) {
		assert.NoError(t, migration.CheckAcceptance(ev.Agreement.Version, ev.Agreement.SHA256), "a version recorded with another version's hash")
	}
}

// Item 12: a personal batch binds no subject to an existing target account;
// neither does a subject that is not certified.
func TestPersonalAndUncertifiedBindNoSubject(t *testing.T) {
	bob := migration.AccountRef{Platform: "microapp", ID: "ma-2"}
	for _, bobSubject := range []string{"", "subj-u"} {
		t.Run("subject "+bobSubject, func(t *testing.T) {
			f := aliceApps(1).
				target(migration.TargetDeveloper, "dev-b", "bob@example.com", migration.OnboardingCompleted, "")
			f.Subjects = append(f.Subjects, migration.Subject{ID: "subj-u", Name: "Unverified", Kind: migration.SubjectPerson})
			f.account("microapp", "ma-2", "bob@example.com", bobSubject)
			f.Members = append(f.Members, migration.Member{AssetID: "app-0", AccountID: "ma-2", Role: migration.RoleCollaborator})
			e := newEnv(t, f.build(t))
			key := "personal/developer"
			if bobSubject != "" {
				key = bobSubject + "/developer"
			}
			b := e.readyBatch(t, bob, key, migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-b"})
			_, err := e.m.Confirm(e.ctx, bob, b.MigrationID, b.BatchID)
			require.NoError(t, err)
			acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-b")
			require.NoError(t, err)
			assert.Empty(t, acct.SubjectID, "no subject bound")
			e.moveAll(t, b)
			assert.Len(t, e.items(t, b.TargetHolder(), ""), 1, "the relation moved")
		})
	}
}

// Item 12: the quota counts what the subject's target accounts already hold:
// an existing account bound by this commit, and accounts imported bound.
func TestQuotaCountsHeldMiniPrograms(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      func() *fixture
		target migration.Target
		fits   bool
	}{
		{"account bound by this commit holds 8", func() *fixture {
			return newFixture().target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "").held(8)
		}, migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"}, false},
		{"another account of the subject holds 8", func() *fixture {
			return newFixture().target(migration.TargetDeveloper, "dev-9", "carol@example.com", migration.OnboardingCompleted, "subj-a").held(8)
		}, migration.Target{Mode: migration.TargetModeNew}, false},
		{"another account of the subject holds 7", func() *fixture {
			return newFixture().target(migration.TargetDeveloper, "dev-9", "carol@example.com", migration.OnboardingCompleted, "subj-a").held(7)
		}, migration.Target{Mode: migration.TargetModeNew}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f()
			f.subject("subj-a", migration.SubjectCompany).account("microapp", "ma-1", "alice@example.com", "subj-a").
				miniprograms("microapp", "ma-1", "subj-a", "a", 3)
			e := newEnv(t, f.build(t))
			b := e.readyBatch(t, alice, "subj-a/developer", tc.target)
			_, err := e.m.Confirm(e.ctx, alice, b.MigrationID, b.BatchID)
			got, gerr := e.store.Batch(e.ctx, b.MigrationID, b.BatchID)
			require.NoError(t, gerr)
			used, _ := e.quotaUsed(t, "subj-a")
			if tc.fits {
				require.NoError(t, err)
				assert.Equal(t, migration.Committing, got.State)
				assert.Equal(t, 10, used, "3 brought + 7 held")
				return
			}
			assert.Equal(t, migration.CodeQuotaExceeded, migration.ErrorCode(err), "%v", err)
			assert.Equal(t, migration.Failed, got.State)
			assert.Zero(t, used)
			if tc.target.Mode == migration.TargetModeExisting {
				acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-1")
				require.NoError(t, err)
				assert.Empty(t, acct.SubjectID, "not bound")
			}
		})
	}
}

// Item 12, race-safe: an individual business (quota 5) already holds 1 on an
// imported account; two of its accounts confirm 2 and 3 at once: 6 > 5, so
// exactly one lands, and the holding is counted once.
func TestQuotaRaceCountsHoldingsOnce(t *testing.T) {
	bob := migration.AccountRef{Platform: "microapp", ID: "ma-2"}
	snap := newFixture().subject("subj-ib", migration.SubjectIndividualBusiness).
		account("microapp", "ma-1", "alice@example.com", "subj-ib").
		account("microapp", "ma-2", "bob@example.com", "subj-ib").
		miniprograms("microapp", "ma-1", "subj-ib", "a", 2).
		miniprograms("microapp", "ma-2", "subj-ib", "b", 3).
		target(migration.TargetDeveloper, "dev-9", "carol@example.com", migration.OnboardingCompleted, "subj-ib").held(1).build(t)
	e := newEnv(t, snap)
	ba := e.readyBatch(t, alice, "subj-ib/developer", migration.Target{Mode: migration.TargetModeNew})
	bb := e.readyBatch(t, bob, "subj-ib/developer", migration.Target{Mode: migration.TargetModeNew})
	errA, errB := e.confirmAtOnce(alice, ba, bob, bb)
	require.True(t, (errA == nil) != (errB == nil), "exactly one lands: alice=%v bob=%v", errA, errB)
	brought, lostErr := 2, errB
	if errA != nil {
		brought, lostErr = 3, errA
	}
	assert.Equal(t, migration.CodeQuotaExceeded, migration.ErrorCode(lostErr))
	used, _ := e.quotaUsed(t, "subj-ib")
	assert.Equal(t, 1+brought, used)
}

// staleIndex answers queries of one holder's index partition with extra
// records as they were before they moved: an eventually consistent GSI that
// has not caught up with a commit of a moment ago.
type staleIndex struct {
	*dynamodb.Client
	holdPK string
	stale  []map[string]types.AttributeValue
}

func (s *staleIndex) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := s.Client.Query(ctx, in, opts...)
	if err != nil || aws.ToString(in.IndexName) != "gsi1" {
		return out, err
	}
	var pk bool
	prefix := ""
	for _, v := range in.ExpressionAttributeValues {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			if sv.Value == s.holdPK {
				pk = true
			} else {
				prefix = sv.Value
			}
		}
	}
	if !pk {
		return out, nil
	}
	for _, row := range s.stale {
		if strings.HasPrefix(row["gsi1sk"].(*types.AttributeValueMemberS).Value, prefix) {
			out.Items = append(out.Items, row)
		}
	}
	return out, nil
}

// Item 13: what the point of no return reserves comes from consistent reads
// of the items, not from the (lagging) index the plan was read from: a
// phantom mini-program reserves nothing, and a batch with nothing left at its
// source reserves and binds nothing (FAILED, NOTHING_TO_MOVE).
func TestCommitReservesOnlyWhatConsistentReadsConfirm(t *testing.T) {
	// "probe": the items the batch was planned with; "index": a batch without
	// one (older records) reads its candidates from the index.
	for _, via := range []string{"probe", "index"} {
		t.Run(via, func(t *testing.T) { reservesOnlyConfirmed(t, via == "index") })
	}
}

func reservesOnlyConfirmed(t *testing.T, dropProbe bool) {
	snap := newFixture().subject("subj-a", migration.SubjectCompany).subject("subj-b", migration.SubjectCompany).
		account("microapp", "ma-1", "alice@example.com", "subj-a").
		miniprograms("microapp", "ma-1", "subj-a", "a", 2).
		miniprograms("microapp", "ma-1", "subj-b", "b", 1).
		target(migration.TargetDeveloper, "dev-1", "alice@example.com", migration.OnboardingCompleted, "").build(t)
	e := newEnv(t, snap)
	// a-1 and all of subject b moved away a moment ago (another migration);
	// the index still lists them under ma-1.
	stale := &staleIndex{Client: e.db, holdPK: "HOLD#src:microapp:ma-1"}
	for _, pk := range []string{"ITEM#app#a-1", "ITEM#app#b-0", "ITEM#data#ds-b-0", "ITEM#order#ord-b-0"} {
		k := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "#"}}
		res, err := e.db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String(e.store.Table()), Key: k, ConsistentRead: aws.Bool(true)})
		require.NoError(t, err)
		require.NotNil(t, res.Item, pk)
		stale.stale = append(stale.stale, res.Item)
		_, err = e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.store.Table()), Key: k,
			UpdateExpression: aws.String("SET holder = :h, gsi1pk = :p, movedBy = :m"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: "tgt:developer:elsewhere"},
				":p": &types.AttributeValueMemberS{Value: "HOLD#tgt:developer:elsewhere"}, ":m": &types.AttributeValueMemberS{Value: "b-other"}}})
		require.NoError(t, err)
	}
	lagging := dynamostore.New(stale, e.store.Table())
	e.store, e.m = lagging, migration.New(migration.Deps{Store: lagging, Signal: e.signal, ChunkSize: 99})

	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	ready := func(key string, target migration.Target) migration.Batch {
		b := e.batchByKey(t, "m-1", key)
		e.accept(t, alice, b)
		b, err := e.m.SelectTarget(e.ctx, alice, "m-1", b.BatchID, target)
		require.NoError(t, err)
		if dropProbe {
			_, err = e.db.UpdateItem(e.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.store.Table()), UpdateExpression: aws.String("REMOVE probe"),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "MIGRATION#m-1"}, "sk": &types.AttributeValueMemberS{Value: "BATCH#" + b.BatchID}}})
			require.NoError(t, err)
		}
		return b
	}
	ba := ready("subj-a/developer", migration.Target{Mode: migration.TargetModeNew})
	require.Equal(t, 2, ba.MiniPrograms, "the plan counted the phantom")
	_, err = e.m.Confirm(e.ctx, alice, ba.MigrationID, ba.BatchID)
	require.NoError(t, err)
	used, _ := e.quotaUsed(t, "subj-a")
	assert.Equal(t, 1, used, "only what is still at the source is reserved")

	bb := ready("subj-b/developer", migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"})
	_, err = e.m.Confirm(e.ctx, alice, bb.MigrationID, bb.BatchID)
	assert.Equal(t, migration.CodeNothingToMove, migration.ErrorCode(err), "%v", err)
	got, err := e.store.Batch(e.ctx, bb.MigrationID, bb.BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Failed, got.State)
	require.NotNil(t, got.Error)
	assert.Equal(t, migration.CodeNothingToMove, got.Error.Code)
	_, exists := e.quotaUsed(t, "subj-b")
	assert.False(t, exists, "nothing reserved")
	acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-1")
	require.NoError(t, err)
	assert.Empty(t, acct.SubjectID, "nothing bound")
}

// Item 14: a target taken at the point of no return (a sibling bound it to
// another subject first) sends the batch back to AWAITING_TARGET with the
// reason, nothing moved; the parked confirmation wait ends with TargetTaken;
// the developer chooses again and commits.
func TestTakenTargetIsChosenAgain(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "test"})
	require.NoError(t, err)
	var bs []migration.Batch
	for _, key := range []string{"subj-a/developer", "subj-b/developer"} {
		b := e.batchByKey(t, "m-1", key)
		e.accept(t, alice, b)
		b, err = e.m.SelectTarget(e.ctx, alice, "m-1", b.BatchID, migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"})
		require.NoError(t, err)
		bs = append(bs, b)
	}
	_, err = e.m.Await(e.ctx, "m-1", bs[1].BatchID, migration.StepConfirmation, "b-confirm")
	require.NoError(t, err)
	_, err = e.m.Confirm(e.ctx, alice, "m-1", bs[0].BatchID)
	require.NoError(t, err)
	_, err = e.m.Confirm(e.ctx, alice, "m-1", bs[1].BatchID)
	assert.Equal(t, migration.CodeTargetNotEligible, migration.ErrorCode(err))

	got, err := e.store.Batch(e.ctx, "m-1", bs[1].BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingTarget, got.State)
	require.NotNil(t, got.LastRefusal)
	assert.Equal(t, migration.CodeTargetNotEligible, got.LastRefusal.Code)
	assert.Nil(t, got.Target)
	assert.Empty(t, got.TargetAccountID)
	assert.Nil(t, got.Error)
	assert.Equal(t, migration.TargetTakenErrorType, e.signal.typeOf("b-confirm"), "the parked confirmation wait goes back to the target wait")
	assert.Len(t, e.items(t, got.SourceHolder(), got.BatchKey), 3, "nothing moved")
	assert.Len(t, auditEvents(t, e, alice, migration.EventTargetRefused), 1)

	// A confirmation wait that parks only now fails the same way.
	_, err = e.m.Await(e.ctx, "m-1", bs[1].BatchID, migration.StepConfirmation, "b-confirm-late")
	require.NoError(t, err)
	assert.Equal(t, migration.TargetTakenErrorType, e.signal.typeOf("b-confirm-late"))
	got, err = e.m.Await(e.ctx, "m-1", bs[1].BatchID, migration.StepTarget, "b-target-2")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingTarget, got.State, "the target wait parks again")

	_, err = e.m.SelectTarget(e.ctx, alice, "m-1", bs[1].BatchID, migration.Target{Mode: migration.TargetModeNew})
	require.NoError(t, err)
	assert.True(t, e.signal.didSucceed("b-target-2"))
	got, err = e.m.Confirm(e.ctx, alice, "m-1", bs[1].BatchID)
	require.NoError(t, err)
	assert.Equal(t, migration.Committing, got.State)
	acct, err := e.store.TargetAccount(e.ctx, migration.TargetDeveloper, "dev-1")
	require.NoError(t, err)
	assert.Equal(t, "subj-a", acct.SubjectID)
}

// Item 14 for ops: an ops confirm refused because its target was taken goes
// back to AWAITING_TARGET (not FAILED); the ops target does not apply again.
func TestOpsTakenTargetWaitsForDeveloper(t *testing.T) {
	e := newEnv(t, twoSubjects(t))
	dev1 := migration.Target{Mode: migration.TargetModeExisting, AccountID: "dev-1"}
	a := migration.CurrentAgreement()
	ops := &migration.OpsInstructions{Confirm: true, Agreement: &migration.OpsAgreement{Version: a.Version, AcceptedBy: "alice", Evidence: "ticket-2"},
		Targets: map[string]migration.Target{"subj-a/developer": dev1, "subj-b/developer": dev1}}
	_, err := e.m.Begin(e.ctx, migration.BeginInput{MigrationID: "m-1", Source: alice, RequestedBy: "ops:alice", Ops: ops})
	require.NoError(t, err)
	ids := []string{e.batchByKey(t, "m-1", "subj-a/developer").BatchID, e.batchByKey(t, "m-1", "subj-b/developer").BatchID}
	for _, id := range ids {
		for _, step := range []migration.Step{migration.StepAgreement, migration.StepTarget} {
			_, err := e.m.Await(e.ctx, "m-1", id, step, id+string(step))
			require.NoError(t, err)
		}
	}
	got, err := e.m.Await(e.ctx, "m-1", ids[0], migration.StepConfirmation, "a-confirm")
	require.NoError(t, err)
	require.Equal(t, migration.Committing, got.State)
	got, err = e.m.Await(e.ctx, "m-1", ids[1], migration.StepConfirmation, "b-confirm")
	require.NoError(t, err, "a taken target is not a failure of the wait's step")
	assert.Equal(t, migration.AwaitingTarget, got.State)
	assert.Equal(t, migration.TargetTakenErrorType, e.signal.typeOf("b-confirm"))
	got, err = e.m.Await(e.ctx, "m-1", ids[1], migration.StepTarget, "b-target-2")
	require.NoError(t, err)
	assert.Equal(t, migration.AwaitingTarget, got.State, "the ops target is not applied a second time")
	require.NotNil(t, got.LastRefusal)
}
