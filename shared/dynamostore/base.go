package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/devplatform/account-migration/shared/migration"
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

// base is what every role of the store shares: the client, the tables and
// the helpers that build keys and records and read and write rows (reads in
// base_reads.go, transactions in base_writes.go, audit records in
// audit_seq.go). Each role embeds it and adds only its own methods.
type base struct {
	db    API
	table string
	audit string // the append-only audit trail's table
}

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
func (s *base) get(ctx context.Context, pk, sk string, out any, what string) error {
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
