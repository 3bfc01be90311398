package moto_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/devplatform/account-migration/local/moto/mototest"
)

func TestMoto(t *testing.T) {
	start := time.Now()
	srv := mototest.Start(t)
	t.Logf("moto answered in %s on %s", time.Since(start).Round(time.Millisecond), srv.Endpoint)
	cfg := mototest.AWSConfig(srv.Endpoint)
	ctx := context.Background()

	t.Run("conditional put fails with ConditionalCheckFailedException", func(t *testing.T) {
		db := dynamodb.NewFromConfig(cfg)
		_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String("t"),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		})
		if err != nil {
			t.Fatal(err)
		}
		put := func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:           aws.String("t"),
				Item:                map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			})
			return err
		}
		if err := put(); err != nil {
			t.Fatalf("first put: %v", err)
		}
		var ccf *types.ConditionalCheckFailedException
		if err := put(); !errors.As(err, &ccf) {
			t.Fatalf("second put: want ConditionalCheckFailedException, got %T %v", err, err)
		}
	})

	t.Run("transaction of 100 items is fast and rolls back", func(t *testing.T) {
		// Patch 3: the rollback snapshot is taken once per table, not per item.
		db := dynamodb.NewFromConfig(cfg)
		items := make([]types.TransactWriteItem, 100)
		for i := range items {
			items[i] = types.TransactWriteItem{Put: &types.Put{
				TableName:           aws.String("t"),
				Item:                map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("tx-%d", i)}},
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}}
		}
		// The last item collides with "a" from the previous subtest: all must roll back.
		items[99].Put.Item["pk"] = &types.AttributeValueMemberS{Value: "a"}
		began := time.Now()
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		t.Logf("100-item cancelled transaction: %s", time.Since(began).Round(time.Millisecond))
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			t.Fatalf("want TransactionCanceledException, got %T %v", err, err)
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String("t"),
			Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "tx-0"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item != nil {
			t.Fatalf("tx-0 was written although the transaction was cancelled")
		}
		items[99].Put.Item["pk"] = &types.AttributeValueMemberS{Value: "tx-99"}
		if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
			t.Fatalf("clean transaction: %v", err)
		}
	})

	t.Run("two executions of one state machine", func(t *testing.T) {
		// Patch 1 (deepcopy with a running execution) and patch 2 (no name).
		sf := sfn.NewFromConfig(cfg)
		sm, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String("pass"),
			RoleArn:    aws.String("arn:aws:iam::123456789012:role/local-sfn"),
			Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		var arns []string
		for i := 0; i < 2; i++ {
			out, err := sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{}`)})
			if err != nil {
				t.Fatalf("StartExecution #%d: %v", i+1, err)
			}
			arns = append(arns, *out.ExecutionArn)
		}
		if arns[0] == arns[1] {
			t.Fatalf("both executions got ARN %s", arns[0])
		}
		for _, arn := range arns {
			deadline := time.Now().Add(30 * time.Second)
			for {
				d, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
				if err != nil {
					t.Fatal(err)
				}
				if d.Status == sfntypes.ExecutionStatusSucceeded {
					if got := aws.ToString(d.Output); got != `{"ok":true}` && got != `{"ok": true}` {
						t.Errorf("output %s", got)
					}
					break
				}
				if d.Status != sfntypes.ExecutionStatusRunning {
					t.Fatalf("%s: status %s", arn, d.Status)
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still running after 30s", arn)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	})
}
