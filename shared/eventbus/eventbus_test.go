package eventbus_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/moto/mototest"
	"github.com/devplatform/account-migration/shared/eventbus"
	"github.com/devplatform/account-migration/shared/migration"
)

// A notice published on the service's bus reaches a consumer subscribed to
// it (a rule on the bus with a queue as its target, as a notification
// system would subscribe), with its detail type and ids intact.
func TestPublishedNoticeReachesASubscribedQueue(t *testing.T) {
	ctx := context.Background()
	srv := mototest.Start(t)
	cfg := mototest.AWSConfig(srv.Endpoint)
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	_, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("migration-events")})
	require.NoError(t, err)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("notices")})
	require.NoError(t, err)
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	require.NoError(t, err)
	pattern := `{"source":["account-migration"],"detail-type":["BatchExpiring"]}`
	_, err = eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("expiring"), EventBusName: aws.String("migration-events"), EventPattern: &pattern})
	require.NoError(t, err)
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("expiring"), EventBusName: aws.String("migration-events"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}})
	require.NoError(t, err)

	p := &eventbus.Publisher{API: eb, Bus: "migration-events"}
	notice := migration.WaitNotice{SchemaVersion: "1", MigrationID: "m-1", BatchID: "b-1", BatchKey: "subj-a/developer",
		Account: migration.AccountRef{Platform: "microapp", ID: "ma-1"}, State: migration.AwaitingTarget, ExpiresAt: "2026-12-31T00:00:00.000000000Z",
		SecondsLeft: 86000, Before: 86400, DedupeKey: "b-1/before-86400s"}
	require.NoError(t, p.Publish(ctx, migration.DetailBatchExpiring, notice))
	require.NoError(t, p.Publish(ctx, migration.DetailBatchWaiting, notice), "another type: not for this rule")

	msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
	require.NoError(t, err)
	require.Len(t, msgs.Messages, 1)
	var ev struct {
		Source     string               `json:"source"`
		DetailType string               `json:"detail-type"`
		Detail     migration.WaitNotice `json:"detail"`
	}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(msgs.Messages[0].Body)), &ev))
	assert.Equal(t, "account-migration", ev.Source)
	assert.Equal(t, "BatchExpiring", ev.DetailType)
	assert.Equal(t, notice, ev.Detail)
}
