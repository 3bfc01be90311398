// Package eventbus is the EventBridge adapter: it puts the service's events
// (source "account-migration") on its bus.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// Source is every event's source, as the workflow's BatchCommitted has it.
const Source = "account-migration"

// API is the part of the EventBridge client used here.
type API interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher implements migration.Publisher on one bus.
type Publisher struct {
	API API
	Bus string // name or ARN; "" is the account's default bus
}

var _ migration.Publisher = (*Publisher)(nil)

// Publish puts one event. PutEvents answers 200 with a failed entry (for
// example when throttled): that is an error here, so the caller retries.
func (p *Publisher) Publish(ctx context.Context, detailType string, detail any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	entry := types.PutEventsRequestEntry{Source: aws.String(Source), DetailType: aws.String(detailType), Detail: aws.String(string(body))}
	if p.Bus != "" {
		entry.EventBusName = aws.String(p.Bus)
	}
	out, err := p.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	if err != nil {
		return err
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		return fmt.Errorf("event %s not accepted: %s %s", detailType, aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	return nil
}

// FromEnv is the publisher on the bus EVENT_BUS_NAME names, nil (no events)
// when it is unset.
func FromEnv(cfg aws.Config) migration.Publisher {
	bus := os.Getenv("EVENT_BUS_NAME")
	if bus == "" {
		return nil
	}
	return &Publisher{API: eventbridge.NewFromConfig(cfg), Bus: bus}
}
