package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Transitions are states entered; invocations are Lambda tasks scheduled; the
// payload bound is the largest state input or output, wherever it is.
func TestAnalyzeHistory(t *testing.T) {
	big := `{"batches":"` + strings.Repeat("x", 5000) + `"}`
	events := []types.HistoryEvent{
		{Type: types.HistoryEventTypeExecutionStarted, ExecutionStartedEventDetails: &types.ExecutionStartedEventDetails{Input: aws.String(`{"source":{}}`)}},
		{Type: types.HistoryEventTypeTaskStateEntered, StateEnteredEventDetails: &types.StateEnteredEventDetails{Name: aws.String("ListAssets"), Input: aws.String(`{}`)}},
		{Type: types.HistoryEventTypeTaskScheduled, TaskScheduledEventDetails: &types.TaskScheduledEventDetails{ResourceType: aws.String("lambda"), Parameters: aws.String(strings.Repeat("p", 9000))}},
		{Type: types.HistoryEventTypeTaskStateExited, StateExitedEventDetails: &types.StateExitedEventDetails{Name: aws.String("ListAssets"), Output: aws.String(big)}},
		{Type: types.HistoryEventTypeChoiceStateEntered, StateEnteredEventDetails: &types.StateEnteredEventDetails{Name: aws.String("MovedAll"), Input: aws.String(`{}`)}},
		{Type: types.HistoryEventTypeTaskScheduled, TaskScheduledEventDetails: &types.TaskScheduledEventDetails{ResourceType: aws.String("dynamodb"), Parameters: aws.String(`{}`)}},
	}
	st := analyzeHistory(events)
	assert.Equal(t, 2, st.Transitions)
	assert.Equal(t, map[string]int{"ListAssets": 1, "MovedAll": 1}, st.ByState)
	assert.Equal(t, 1, st.Invocations, "the DynamoDB integration is no Lambda invocation")
	assert.Equal(t, len(big), st.MaxStatePayload)
	assert.Contains(t, st.MaxStateWhere, "ListAssets")
	assert.Equal(t, 9000, st.MaxAnyPayload, "Lambda parameters count among all payloads, not among state input/output")
}

func recorded(t *testing.T, target string, body any) string {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	line, err := json.Marshal(map[string]any{"headers": map[string]string{"X-Amz-Target": target}, "body": base64.StdEncoding.EncodeToString(b), "body_encoded": true})
	require.NoError(t, err)
	return string(line)
}

func key(pk string) map[string]any {
	return map[string]any{"pk": map[string]string{"S": pk}, "sk": map[string]string{"S": "#"}}
}

// Item writes are told from bookkeeping by their keys; the counter riding in
// an item transaction is not bookkeeping of its own; a request the SDK resent
// after a 500 counts once; reads are no writes.
func TestCountWrites(t *testing.T) {
	move := map[string]any{"TransactItems": []any{
		map[string]any{"Update": map[string]any{"Key": key("ITEM#app#a1")}},
		map[string]any{"Update": map[string]any{"Key": key("ITEM#data#d1")}},
		map[string]any{"Update": map[string]any{"Key": key("MIGRATION#m")}},
	}}
	rec := strings.Join([]string{
		recorded(t, "DynamoDB_20120810.TransactWriteItems", move),
		recorded(t, "DynamoDB_20120810.TransactWriteItems", move), // resent
		recorded(t, "DynamoDB_20120810.UpdateItem", map[string]any{"Key": key("MIGRATION#m")}),
		recorded(t, "DynamoDB_20120810.PutItem", map[string]any{"Item": map[string]any{"pk": map[string]string{"S": "ACTIVE#x"}, "sk": map[string]string{"S": "#"},
			"blob": map[string]string{"S": strings.Repeat("b", 3000)}}}),
		recorded(t, "DynamoDB_20120810.DeleteItem", map[string]any{"Key": key("ACTIVE#x")}),
		recorded(t, "DynamoDB_20120810.GetItem", map[string]any{"Key": key("ITEM#app#a1")}),
		recorded(t, "AWSStepFunctions.SendTaskSuccess", map[string]any{}),
	}, "\n")
	ws, err := countWrites([]byte(rec), nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"TransactWriteItems": 1, "UpdateItem": 1, "PutItem": 1, "DeleteItem": 1}, ws.Requests)
	assert.Equal(t, 1, ws.Resent)
	assert.Equal(t, 2, ws.ItemWrites)
	assert.Equal(t, 2, ws.ItemsWritten)
	assert.Equal(t, 1, ws.MaxPerItem)
	assert.Equal(t, 1, ws.CounterActions)
	assert.Equal(t, 3, ws.BookkeepingRequests)
	assert.Equal(t, 1, ws.ReadRequests)
	assert.Equal(t, 3*2+1+3+3, ws.Units, "2 units per transactional action, 1 per KB otherwise (a 3 KB put and its delete: 3 each)")
}
