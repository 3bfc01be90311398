package main

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// historyStats is what one execution's history says about its cost and its
// payloads.
type historyStats struct {
	Events      int
	Transitions int            // states entered: what Standard workflows bill
	ByState     map[string]int // transitions per state name
	Invocations int            // Lambda tasks scheduled (retries included)
	PutEvents   int            // EventBridge entries the workflow put
	// The largest state input or output (StateEntered input, StateExited
	// output, execution input and output), and where it was.
	MaxStatePayload int
	MaxStateWhere   string
	// The largest payload of any kind, Lambda parameters and results included.
	MaxAnyPayload int
	MaxAnyWhere   string
}

// fetchHistory reads an execution's whole history (moto ignores maxResults
// and answers in one page, but a token is followed if one comes back).
func fetchHistory(ctx context.Context, sf *sfn.Client, arn string) ([]types.HistoryEvent, error) {
	var all []types.HistoryEvent
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000}
	for {
		out, err := sf.GetExecutionHistory(ctx, in)
		if err != nil {
			return nil, err
		}
		all = append(all, out.Events...)
		if out.NextToken == nil || *out.NextToken == "" {
			return all, nil
		}
		in.NextToken = out.NextToken
	}
}

// analyzeHistory counts transitions and invocations and finds the largest
// payloads. Payload fields are found by name in the JSON form of each event's
// details, so every detail type is covered without listing them all.
func analyzeHistory(events []types.HistoryEvent) historyStats {
	st := historyStats{Events: len(events), ByState: map[string]int{}}
	for _, ev := range events {
		kind := string(ev.Type)
		if strings.HasSuffix(kind, "StateEntered") {
			st.Transitions++
			if d := ev.StateEnteredEventDetails; d != nil {
				st.ByState[aws.ToString(d.Name)]++
			}
		}
		if ev.Type == types.HistoryEventTypeTaskScheduled && ev.TaskScheduledEventDetails != nil &&
			aws.ToString(ev.TaskScheduledEventDetails.ResourceType) == "lambda" {
			st.Invocations++
		}
		if ev.Type == types.HistoryEventTypeLambdaFunctionScheduled {
			st.Invocations++
		}
		if d := ev.TaskScheduledEventDetails; d != nil && aws.ToString(d.ResourceType) == "events" {
			st.PutEvents += putEventsEntries(aws.ToString(d.Parameters))
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			continue
		}
		var doc map[string]any
		if json.Unmarshal(raw, &doc) != nil {
			continue
		}
		name := ""
		if d := ev.StateEnteredEventDetails; d != nil {
			name = aws.ToString(d.Name)
		}
		if d := ev.StateExitedEventDetails; d != nil {
			name = aws.ToString(d.Name)
		}
		walkPayloads(doc, func(field string, size int) {
			where := kind + "." + field
			if name != "" {
				where += " (" + name + ")"
			}
			if size > st.MaxAnyPayload {
				st.MaxAnyPayload, st.MaxAnyWhere = size, where
			}
			stateIO := (strings.HasSuffix(kind, "StateEntered") && field == "Input") ||
				(strings.HasSuffix(kind, "StateExited") && field == "Output") ||
				(strings.HasPrefix(kind, "Execution") && (field == "Input" || field == "Output"))
			if stateIO && size > st.MaxStatePayload {
				st.MaxStatePayload, st.MaxStateWhere = size, where
			}
		})
	}
	return st
}

// walkPayloads calls fn for every string field named Input, Output or
// Parameters, at any depth.
func walkPayloads(v any, fn func(field string, size int)) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "Input" || k == "Output" || k == "Parameters") {
				fn(k, len(s))
				continue
			}
			walkPayloads(val, fn)
		}
	case []any:
		for _, val := range x {
			walkPayloads(val, fn)
		}
	}
}

// putEventsEntries counts the entries of an events:putEvents task's
// parameters (each entry is one billed event); 1 when they cannot be read.
func putEventsEntries(params string) int {
	var p struct {
		Entries []json.RawMessage `json:"Entries"`
	}
	if json.Unmarshal([]byte(params), &p) != nil || len(p.Entries) == 0 {
		return 1
	}
	return len(p.Entries)
}
