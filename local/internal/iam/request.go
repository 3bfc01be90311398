package iam

// Requests: which IAM actions on which resources one AWS API request needs,
// as each service's authorization reference defines them.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Call is one IAM action on one resource ARN ("*" for actions without
// resource-level permissions) that a request needs.
type Call struct {
	Action   string // service:Action
	Resource string
}

func (c Call) String() string { return c.Action + " on " + c.Resource }

// Account is the local account and region the ARNs are built in.
type Account struct {
	Region string
	ID     string
}

// Calls lists what a request needs. body is the request's body (read by the
// caller); an error means the request cannot be judged, which a role's
// request must not pass.
func (a Account) Calls(r *http.Request, body []byte) ([]Call, error) {
	if fn, ok := lambdaInvoke(r); ok {
		if !strings.HasPrefix(fn, "arn:") {
			fn = "arn:aws:lambda:" + a.Region + ":" + a.ID + ":function:" + fn
		}
		return []Call{{"lambda:InvokeFunction", fn}}, nil
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, ok := strings.Cut(target, ".")
		if !ok {
			return nil, fmt.Errorf("X-Amz-Target %q", target)
		}
		var fields map[string]json.RawMessage
		if len(body) > 0 {
			if err := json.Unmarshal(body, &fields); err != nil {
				return nil, fmt.Errorf("%s: body: %w", target, err)
			}
		}
		switch {
		case strings.HasPrefix(prefix, "DynamoDB_"):
			return a.dynamodb(op, fields)
		case prefix == "AWSStepFunctions":
			return a.states(op, fields)
		case prefix == "AWSEvents":
			return a.events(op, fields)
		}
		return nil, fmt.Errorf("no local IAM rules for %s", target)
	}
	if service(r) == "s3" {
		return a.s3(r)
	}
	return nil, fmt.Errorf("no local IAM rules for %s %s", r.Method, r.URL.Path)
}

// lambdaInvoke matches POST /2015-03-31/functions/{name}/invocations.
func lambdaInvoke(r *http.Request) (string, bool) {
	p := r.URL.EscapedPath()
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if r.Method != http.MethodPost || !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) {
		return "", false
	}
	name, err := url.PathUnescape(p[len(prefix) : len(p)-len(suffix)])
	return name, err == nil && name != "" && !strings.Contains(name, "/")
}

// service is the signing name in the request's credential scope.
func service(r *http.Request) string {
	_, scope, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		scope = r.URL.Query().Get("X-Amz-Credential")
	}
	scope, _, _ = strings.Cut(scope, ",")
	parts := strings.Split(scope, "/")
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

func str(fields map[string]json.RawMessage, name string) string {
	var s string
	_ = json.Unmarshal(fields[name], &s)
	return s
}

func (a Account) table(name string) string {
	if strings.HasPrefix(name, "arn:") { // DynamoDB accepts a table ARN as TableName
		return name
	}
	return "arn:aws:dynamodb:" + a.Region + ":" + a.ID + ":table/" + name
}

func (a Account) dynamodb(op string, fields map[string]json.RawMessage) ([]Call, error) {
	action := "dynamodb:" + op
	switch op {
	case "ListTables", "DescribeLimits", "DescribeEndpoints":
		return []Call{{action, "*"}}, nil
	case "BatchGetItem", "BatchWriteItem":
		var items map[string]json.RawMessage
		if err := json.Unmarshal(fields["RequestItems"], &items); err != nil || len(items) == 0 {
			return nil, fmt.Errorf("%s: no RequestItems", action)
		}
		var out []Call
		for t := range items {
			out = append(out, Call{action, a.table(t)})
		}
		return out, nil
	case "TransactWriteItems", "TransactGetItems":
		// Each item is governed by its own action (DynamoDB's "Using IAM with
		// DynamoDB transactions"): Put -> PutItem, ConditionCheck -> ConditionCheckItem.
		var items []map[string]struct{ TableName string }
		if err := json.Unmarshal(fields["TransactItems"], &items); err != nil || len(items) == 0 {
			return nil, fmt.Errorf("%s: no TransactItems", action)
		}
		perItem := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
			"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var out []Call
		for i, item := range items {
			if len(item) != 1 {
				return nil, fmt.Errorf("%s: item %d has %d actions", action, i, len(item))
			}
			for kind, v := range item {
				itemAction, ok := perItem[kind]
				if !ok || v.TableName == "" {
					return nil, fmt.Errorf("%s: item %d: %s without a table", action, i, kind)
				}
				out = append(out, Call{"dynamodb:" + itemAction, a.table(v.TableName)})
			}
		}
		return out, nil
	}
	t := str(fields, "TableName")
	if t == "" {
		return nil, fmt.Errorf("%s: no TableName", action)
	}
	res := a.table(t)
	if idx := str(fields, "IndexName"); idx != "" {
		res += "/index/" + idx
	}
	return []Call{{action, res}}, nil
}

func (a Account) states(op string, fields map[string]json.RawMessage) ([]Call, error) {
	action := "states:" + op
	var field string
	switch op {
	case "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "ListStateMachines", "ListActivities", "CreateStateMachine":
		// No resource-level permissions (the Service Authorization Reference
		// lists no resource type for them): only a grant on "*" allows them.
		return []Call{{action, "*"}}, nil
	case "StartExecution", "StartSyncExecution", "DescribeStateMachine", "ListExecutions", "UpdateStateMachine", "DeleteStateMachine", "ListMapRuns":
		field = "stateMachineArn"
		if op == "ListMapRuns" {
			field = "executionArn"
		}
	case "DescribeExecution", "StopExecution", "GetExecutionHistory", "RedriveExecution", "DescribeStateMachineForExecution":
		field = "executionArn"
	case "DescribeMapRun", "UpdateMapRun":
		field = "mapRunArn"
	default:
		return nil, fmt.Errorf("no local IAM rule for %s", action)
	}
	arn := str(fields, field)
	if arn == "" {
		return nil, fmt.Errorf("%s: no %s", action, field)
	}
	return []Call{{action, arn}}, nil
}

func (a Account) events(op string, fields map[string]json.RawMessage) ([]Call, error) {
	if op != "PutEvents" {
		return nil, fmt.Errorf("no local IAM rule for events:%s", op)
	}
	var entries []struct{ EventBusName string }
	if err := json.Unmarshal(fields["Entries"], &entries); err != nil || len(entries) == 0 {
		return nil, fmt.Errorf("events:PutEvents: no Entries")
	}
	var out []Call
	for _, e := range entries {
		bus := e.EventBusName
		if bus == "" {
			bus = "default"
		}
		if !strings.HasPrefix(bus, "arn:") {
			bus = "arn:aws:events:" + a.Region + ":" + a.ID + ":event-bus/" + bus
		}
		out = append(out, Call{"events:PutEvents", bus})
	}
	return out, nil
}

// s3 maps the REST calls a Step Functions S3 integration or ItemReader makes.
func (a Account) s3(r *http.Request) ([]Call, error) {
	bucket, key := "", strings.TrimPrefix(r.URL.Path, "/")
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if b, rest, ok := strings.Cut(host, "."); ok && net.ParseIP(host) == nil && (rest == "localhost" || strings.HasPrefix(rest, "s3.") || strings.HasPrefix(rest, "s3-")) {
		bucket = b // virtual-hosted style: <bucket>.localhost, <bucket>.s3.<region>.amazonaws.com
	} else {
		bucket, key, _ = strings.Cut(key, "/")
	}
	if bucket == "" {
		return []Call{{"s3:ListAllMyBuckets", "*"}}, nil
	}
	q := r.URL.Query()
	object := "arn:aws:s3:::" + bucket + "/" + key
	bucketArn := "arn:aws:s3:::" + bucket
	has := func(k string) bool { _, ok := q[k]; return ok }
	switch {
	case key == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		switch {
		case has("location"):
			return []Call{{"s3:GetBucketLocation", bucketArn}}, nil
		case has("uploads"):
			return []Call{{"s3:ListBucketMultipartUploads", bucketArn}}, nil
		}
		return []Call{{"s3:ListBucket", bucketArn}}, nil
	case key == "":
		return nil, fmt.Errorf("no local IAM rule for s3 %s on a bucket", r.Method)
	case r.Method == http.MethodGet && has("uploadId"):
		return []Call{{"s3:ListMultipartUploadParts", object}}, nil
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return []Call{{"s3:GetObject", object}}, nil
	case r.Method == http.MethodPut || r.Method == http.MethodPost:
		// PutObject, UploadPart, CreateMultipartUpload, CompleteMultipartUpload.
		return []Call{{"s3:PutObject", object}}, nil
	case r.Method == http.MethodDelete && has("uploadId"):
		return []Call{{"s3:AbortMultipartUpload", object}}, nil
	case r.Method == http.MethodDelete:
		return []Call{{"s3:DeleteObject", object}}, nil
	}
	return nil, fmt.Errorf("no local IAM rule for s3 %s", r.Method)
}
