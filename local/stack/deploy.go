package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// roleArn is the role a state machine runs with: moto's interpreter (as the
// launcher patches it) signs the machine's calls with iam.AccessKeyID of the
// role's name, the machine's logical id, so the local AWS endpoint holds them
// to the policies template.yaml gives that machine.
func roleArn(id string) string { return "arn:aws:iam::" + cfn.AccountID + ":role/" + id }

// tableProperties are the AWS::DynamoDB::Table properties DynamoDB's API
// shares by name with CloudFormation, so a JSON round trip of the resolved
// property map fills them. PointInTimeRecovery and SSE have no local effect.
type tableProperties struct {
	BillingMode             types.BillingMode
	AttributeDefinitions    []types.AttributeDefinition
	KeySchema               []types.KeySchemaElement
	GlobalSecondaryIndexes  []types.GlobalSecondaryIndex
	LocalSecondaryIndexes   []types.LocalSecondaryIndex
	ProvisionedThroughput   *types.ProvisionedThroughput
	TimeToLiveSpecification *types.TimeToLiveSpecification
}

// createTableInput converts a table resource into CreateTableInput and the
// TTL setting to apply after it.
func createTableInput(res *cfn.Resource, r *cfn.Resolver) (*dynamodb.CreateTableInput, *types.TimeToLiveSpecification, error) {
	name, err := r.TableName(res)
	if err != nil {
		return nil, nil, err
	}
	v, err := r.Value(res.Properties)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", res.ID, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	var p tableProperties
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, nil, fmt.Errorf("%s: properties: %w", res.ID, err)
	}
	if len(p.KeySchema) == 0 {
		return nil, nil, fmt.Errorf("%s: no KeySchema", res.ID)
	}
	in := &dynamodb.CreateTableInput{
		TableName:              aws.String(name),
		AttributeDefinitions:   p.AttributeDefinitions,
		KeySchema:              p.KeySchema,
		GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
		LocalSecondaryIndexes:  p.LocalSecondaryIndexes,
		BillingMode:            p.BillingMode,
		ProvisionedThroughput:  p.ProvisionedThroughput,
	}
	if in.BillingMode == "" && in.ProvisionedThroughput == nil {
		in.BillingMode = types.BillingModePayPerRequest
	}
	return in, p.TimeToLiveSpecification, nil
}

func createTable(ctx context.Context, db *dynamodb.Client, res *cfn.Resource, r *cfn.Resolver) (string, error) {
	in, ttl, err := createTableInput(res, r)
	if err != nil {
		return "", err
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return "", fmt.Errorf("create table %s: %w", *in.TableName, err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 30*time.Second); err != nil {
		return "", fmt.Errorf("table %s not ACTIVE: %w", *in.TableName, err)
	}
	if ttl != nil {
		if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: in.TableName, TimeToLiveSpecification: ttl}); err != nil {
			return "", fmt.Errorf("table %s: time to live: %w", *in.TableName, err)
		}
	}
	return *in.TableName, nil
}

// createStateMachine creates a state machine resource with its substituted
// definition and checks moto gave it the ARN the functions were told.
// manifestBucketID is the bucket of the committed batches' manifests.
const manifestBucketID = "ManifestBucket"

// createBucket creates a template bucket under its resolved name.
func createBucket(ctx context.Context, client *s3.Client, res *cfn.Resource, r *cfn.Resolver) (string, error) {
	name, err := r.BucketName(res)
	if err != nil {
		return "", err
	}
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return "", fmt.Errorf("create bucket %s: %w", name, err)
	}
	return name, nil
}

func createStateMachine(ctx context.Context, sf *sfn.Client, res *cfn.Resource, r *cfn.Resolver) (string, error) {
	def, err := r.Definition(res)
	if err != nil {
		return "", err
	}
	name, err := r.StateMachineName(res)
	if err != nil {
		return "", err
	}
	out, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(name),
		Definition: aws.String(def),
		RoleArn:    aws.String(roleArn(res.ID)),
		Type:       sfntypes.StateMachineTypeStandard,
	})
	if err != nil {
		return "", fmt.Errorf("create state machine %s: %w", name, err)
	}
	arn := aws.ToString(out.StateMachineArn)
	if want := cfn.StateMachineArn(name); arn != want {
		return "", fmt.Errorf("state machine %s: moto gave ARN %s, functions were told %s", name, arn, want)
	}
	return arn, nil
}

// seed loads a snapshot through the same adapter the functions use.
func seed(ctx context.Context, db *dynamodb.Client, table string, snapshot []byte) error {
	snap, err := migration.ParseSnapshot(bytes.NewReader(snapshot))
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := dynamostore.New(db, table).ImportSnapshot(ctx, snap); err != nil {
		return fmt.Errorf("seed: import: %w", err)
	}
	return nil
}
