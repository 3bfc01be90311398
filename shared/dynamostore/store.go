package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/devplatform/account-migration/shared/migration"
	"github.com/devplatform/account-migration/shared/strictjson"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is the DynamoDB adapter of migration.Store.
type Store struct {
	db    API
	table string
	audit string // the append-only audit trail's table
}

var _ migration.Store = (*Store)(nil)

// New returns a store on table, with the audit trail in the same table until
// WithAuditTable names its own (as the deployed functions do).
func New(client API, table string) *Store { return &Store{db: client, table: table, audit: table} }

// WithAuditTable puts the audit trail in a table of its own, where the
// functions may only add records (template.yaml's AuditTable); "" keeps it.
func (s *Store) WithAuditTable(name string) *Store {
	c := *s
	if name != "" {
		c.audit = name
	}
	return &c
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// AuditTable is the audit trail's table.
func (s *Store) AuditTable() string { return s.audit }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// record marshals v and adds its keys.
func record(v any, keys map[string]string) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, err
	}
	for k, val := range keys {
		av[k] = &types.AttributeValueMemberS{Value: val}
	}
	return av, nil
}

// get reads one item consistently into out; NOT_FOUND when absent.
func (s *Store) get(ctx context.Context, pk, sk string, out any, what string) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return storeErr(err)
	}
	if res.Item == nil {
		return migration.Errorf(migration.CodeNotFound, "no %s", what)
	}
	return attributevalue.UnmarshalMap(res.Item, out)
}

// storeErr turns an SDK error into a coded one: throttling and server faults
// become UNAVAILABLE (retryable); the cause stays inside for the logs.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var coded *migration.Error
	if errors.As(err, &coded) {
		return err
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable", "TransactionConflictException":
			return &migration.Error{Code: migration.CodeUnavailable, Message: "the store is busy; try again", Err: err}
		}
	}
	// A connection reset, EOF or timeout after the SDK's own retries: the
	// request may or may not have applied, and every write here is safe to
	// repeat, so the caller retries.
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) || (retry.RetryableConnectionError{}).IsErrorRetryable(err) == aws.TrueTernary {
		return &migration.Error{Code: migration.CodeUnavailable, Message: "the store could not be reached; try again", Err: err}
	}
	// A 5xx without an AWS error code (a proxy, a load balancer, an emulator
	// fault) is as transient as a throttle: the caller retries.
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return &migration.Error{Code: migration.CodeUnavailable, Message: "the store failed; try again", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &migration.Error{Code: migration.CodeUnavailable, Message: "the store did not answer in time; try again", Err: err}
	}
	return &migration.Error{Code: migration.CodeInternal, Message: "store error", Err: err}
}

// ---- Cursors --------------------------------------------------------------------------

// A cursor is the query's LastEvaluatedKey (all string attributes here),
// base64url-encoded JSON. decodeCursor refuses a cursor for another partition,
// so a cursor can never open someone else's listing.
func encodeCursor(lek map[string]types.AttributeValue) string {
	if len(lek) == 0 {
		return ""
	}
	m := map[string]string{}
	for k, v := range lek {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			m[k] = sv.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c, index, partitionAttr, partition, sortAttr, sortPrefix string) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	bad := migration.Errorf(migration.CodeInvalidInput, "cursor is not valid")
	if len(c) > 2048 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var m map[string]string
	if err := strictjson.Decode(b, &m); err != nil || m[partitionAttr] != partition || !strings.HasPrefix(m[sortAttr], sortPrefix) {
		return nil, bad
	}
	// Exactly the keys a LastEvaluatedKey of this query has (the table's,
	// plus the index's): any other set is a start key DynamoDB refuses.
	want := map[string]bool{attrPK: true, attrSK: true}
	if index != "" {
		want[partitionAttr], want[sortAttr] = true, true
	}
	if len(m) != len(want) {
		return nil, bad
	}
	out := map[string]types.AttributeValue{}
	for k, v := range m {
		if !want[k] || v == "" {
			return nil, bad
		}
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}

// queryPage runs one page of a key-condition query on index (or the table).
func (s *Store) queryPage(ctx context.Context, index, pkAttr, pk, skAttr, skPrefix, cursor string, limit int, consistent bool) ([]map[string]types.AttributeValue, string, error) {
	start, err := decodeCursor(cursor, index, pkAttr, pk, skAttr, skPrefix)
	if err != nil {
		return nil, "", err
	}
	kc := expression.Key(pkAttr).Equal(expression.Value(pk))
	if skPrefix != "" {
		kc = kc.And(expression.Key(skAttr).BeginsWith(skPrefix))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ExclusiveStartKey: start, Limit: aws.Int32(int32(limit))}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(consistent)
	}
	res, err := s.db.Query(ctx, in)
	var api smithy.APIError
	if err != nil && start != nil && errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		// A start key DynamoDB refuses came from the caller's cursor.
		return nil, "", &migration.Error{Code: migration.CodeInvalidInput, Message: "cursor is not valid", Err: err}
	}
	if err != nil {
		return nil, "", storeErr(err)
	}
	return res.Items, encodeCursor(res.LastEvaluatedKey), nil
}

// queryAll reads every page of a query on the table itself.
func (s *Store) queryAll(ctx context.Context, pk, skPrefix string) ([]map[string]types.AttributeValue, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(pk))
	if skPrefix != "" {
		kc = kc.And(expression.Key(attrSK).BeginsWith(skPrefix))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true)})
	var all []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, storeErr(err)
		}
		all = append(all, page.Items...)
	}
	return all, nil
}

// ---- Reads ----------------------------------------------------------------------------

// SourceAccount reads an old-platform account.
func (s *Store) SourceAccount(ctx context.Context, ref migration.AccountRef) (migration.Account, error) {
	var a migration.Account
	err := s.get(ctx, accountPK(ref), metaSK, &a, fmt.Sprintf("account %s", ref))
	return a, err
}

// Subject reads a subject.
func (s *Store) Subject(ctx context.Context, id string) (migration.Subject, error) {
	var sub migration.Subject
	err := s.get(ctx, subjectPK(id), metaSK, &sub, "subject "+id)
	return sub, err
}

// HeldItems pages through what holder holds, optionally one batch only.
func (s *Store) HeldItems(ctx context.Context, holder, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	return s.itemsPage(ctx, indexHeld, attrGSI1PK, holdPK(holder), attrGSI1SK, batchKey, cursor, limit)
}

// Followers pages through the relations on holder's apps.
func (s *Store) Followers(ctx context.Context, holder, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	return s.itemsPage(ctx, indexGSI2, attrGSI2PK, followPK(holder), attrGSI2SK, batchKey, cursor, limit)
}

// itemsPage is one page of items from an index, optionally one batch only.
func (s *Store) itemsPage(ctx context.Context, index, pkAttr, pk, skAttr, batchKey, cursor string, limit int) ([]migration.Item, string, error) {
	rows, next, err := s.queryPage(ctx, index, pkAttr, pk, skAttr, batchPrefix(batchKey), cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	items := make([]migration.Item, 0, len(rows))
	if err := attributevalue.UnmarshalListOfMaps(rows, &items); err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// Item reads one item consistently.
func (s *Store) Item(ctx context.Context, t migration.ItemType, id string) (migration.Item, error) {
	var it migration.Item
	err := s.get(ctx, itemPK(t, id), metaSK, &it, fmt.Sprintf("%s %s", t, id))
	return it, err
}

// TargetAccount reads a new-platform account.
func (s *Store) TargetAccount(ctx context.Context, p migration.TargetPlatform, id string) (migration.TargetAccount, error) {
	var t migration.TargetAccount
	err := s.get(ctx, targetPK(p, id), metaSK, &t, fmt.Sprintf("account %s on %s", id, p))
	return t, err
}

// TargetCandidates lists the accounts registered on p with login.
func (s *Store) TargetCandidates(ctx context.Context, p migration.TargetPlatform, login string) ([]migration.TargetAccount, error) {
	var out []migration.TargetAccount
	cursor := ""
	for {
		rows, next, err := s.queryPage(ctx, indexGSI2, attrGSI2PK, loginPK(p, login), attrGSI2SK, "", cursor, 100, false)
		if err != nil {
			return nil, err
		}
		var page []migration.TargetAccount
		if err := attributevalue.UnmarshalListOfMaps(rows, &page); err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// Migration reads a migration.
func (s *Store) Migration(ctx context.Context, id string) (migration.Migration, error) {
	var m migration.Migration
	err := s.get(ctx, migrationPK(id), metaSK, &m, "migration "+id)
	return m, err
}

// batchRecord is a batch as stored: the parked task tokens sit beside it.
type batchRecord struct {
	migration.Batch
	AgreementToken    string `dynamodbav:"agreementToken,omitempty"`
	TargetToken       string `dynamodbav:"targetToken,omitempty"`
	ConfirmationToken string `dynamodbav:"confirmationToken,omitempty"`
}

var tokenAttr = map[migration.Step]string{
	migration.StepAgreement:    "agreementToken",
	migration.StepTarget:       "targetToken",
	migration.StepConfirmation: "confirmationToken",
}

func unmarshalBatch(av map[string]types.AttributeValue) (migration.Batch, error) {
	var r batchRecord
	if err := attributevalue.UnmarshalMap(av, &r); err != nil {
		return migration.Batch{}, err
	}
	b := r.Batch
	b.Tokens = map[migration.Step]string{}
	for step, tok := range map[migration.Step]string{migration.StepAgreement: r.AgreementToken, migration.StepTarget: r.TargetToken, migration.StepConfirmation: r.ConfirmationToken} {
		if tok != "" {
			b.Tokens[step] = tok
		}
	}
	return b, nil
}

// Batch reads one batch.
func (s *Store) Batch(ctx context.Context, migrationID, batchID string) (migration.Batch, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(migrationPK(migrationID), batchSK(batchID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return migration.Batch{}, storeErr(err)
	}
	if res.Item == nil {
		return migration.Batch{}, migration.Errorf(migration.CodeNotFound, "no batch %s in migration %s", batchID, migrationID)
	}
	return unmarshalBatch(res.Item)
}

// Batches reads all batches of a migration, in batch-key order.
func (s *Store) Batches(ctx context.Context, migrationID string) ([]migration.Batch, error) {
	rows, err := s.queryAll(ctx, migrationPK(migrationID), "BATCH#")
	if err != nil {
		return nil, err
	}
	out := make([]migration.Batch, 0, len(rows))
	for _, row := range rows {
		b, err := unmarshalBatch(row)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	sortBatches(out)
	return out, nil
}

// HasViewed reports whether the account viewed that agreement.
func (s *Store) HasViewed(ctx context.Context, src migration.AccountRef, version, sha string) (bool, error) {
	var v struct{}
	err := s.get(ctx, viewPK(src), version+"#"+sha, &v, "view")
	if migration.IsCode(err, migration.CodeNotFound) {
		return false, nil
	}
	return err == nil, err
}

// AuditTrail pages through an account's audit events, oldest first.
func (s *Store) AuditTrail(ctx context.Context, src migration.AccountRef, cursor string, limit int) ([]migration.AuditEvent, string, error) {
	trail := &Store{db: s.db, table: s.audit, audit: s.audit}
	rows, next, err := trail.queryPage(ctx, "", attrPK, auditPK(src.String()), attrSK, "", cursor, limit, true)
	if err != nil {
		return nil, "", err
	}
	var evs []migration.AuditEvent
	if err := attributevalue.UnmarshalListOfMaps(rows, &evs); err != nil {
		return nil, "", err
	}
	return evs, next, nil
}
