package iam

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var acct = Account{Region: "us-east-1", ID: "123456789012"}

func policy(t *testing.T, doc string) Policy {
	t.Helper()
	p, err := ParsePolicy("test", []byte(doc))
	require.NoError(t, err)
	return p
}

func TestEvaluateAllowDenyAndWildcards(t *testing.T) {
	ps := []Policy{policy(t, `{"Statement":[
		{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":["arn:aws:dynamodb:us-east-1:123456789012:table/T","arn:aws:dynamodb:us-east-1:123456789012:table/T/index/*"]},
		{"Effect":"Allow","Action":"states:SendTask*","Resource":"*"},
		{"Effect":"Allow","Action":"logs:*","NotResource":"arn:aws:logs:*:*:log-group:secret*"},
		{"Effect":"Deny","Action":"dynamodb:Query","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/T/index/private"}]}`)}
	for _, tc := range []struct {
		action, resource string
		want             Decision
	}{
		{"dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T", Allowed},
		{"DynamoDB:getitem", "arn:aws:dynamodb:us-east-1:123456789012:table/T", Allowed},      // actions ignore case
		{"dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t", ImplicitDeny}, // ARNs do not
		{"dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T2", ImplicitDeny},
		{"dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T", ImplicitDeny},
		{"dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/T/index/gsi1", Allowed},
		{"dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/T/index/private", ExplicitDeny},
		{"states:SendTaskSuccess", "*", Allowed},
		{"logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:app", Allowed},
		{"logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:secret-1", ImplicitDeny},
	} {
		assert.Equal(t, tc.want, Evaluate(ps, tc.action, tc.resource), "%s on %s", tc.action, tc.resource)
	}
	// A grant that names a state machine does not allow SendTask*, which IAM
	// evaluates on "*" only.
	named := []Policy{policy(t, `{"Statement":{"Effect":"Allow","Action":"states:SendTaskSuccess","Resource":"arn:aws:states:us-east-1:123456789012:stateMachine:M"}}`)}
	assert.Equal(t, ImplicitDeny, Evaluate(named, "states:SendTaskSuccess", "*"))
}

// The bucket owner check: a grant conditioned on the resource's account
// allows the local account's buckets and tables, never another account's.
func TestResourceAccountCondition(t *testing.T) {
	owned := []Policy{policy(t, `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/cohorts/*",`+
		`"Condition":{"StringEquals":{"s3:ResourceAccount":"123456789012"}}}]}`)}
	assert.Equal(t, Allowed, Evaluate(owned, "s3:GetObject", "arn:aws:s3:::b/cohorts/x.csv"), "the local account owns its buckets")
	other := []Policy{policy(t, `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/cohorts/*",`+
		`"Condition":{"StringEquals":{"s3:ResourceAccount":"999999999999"}}}]}`)}
	assert.Equal(t, ImplicitDeny, Evaluate(other, "s3:GetObject", "arn:aws:s3:::b/cohorts/x.csv"), "a bucket of another owner")
	table := []Policy{policy(t, `{"Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",`+
		`"Condition":{"StringEquals":{"aws:ResourceAccount":["999999999999"]}}}]}`)}
	assert.Equal(t, ImplicitDeny, Evaluate(table, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T"), "the ARN's account decides")
}

func TestParsePolicyRefusesWhatItCannotJudge(t *testing.T) {
	for _, doc := range []string{
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"s3:ResourceAccount":"1*"}}}]}`,
		`{"Statement":[{"Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`,
	} {
		_, err := ParsePolicy("bad", []byte(doc))
		assert.Error(t, err, doc)
	}
}

func jsonRequest(t *testing.T, key, target string, body any) *http.Request {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	r.Header.Set("X-Amz-Target", target)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
	return r
}

// What one request needs, per the services' authorization references.
func TestCallsOfRequests(t *testing.T) {
	tx := map[string]any{"TransactItems": []any{
		map[string]any{"Put": map[string]any{"TableName": "Audit"}},
		map[string]any{"Update": map[string]any{"TableName": "T"}},
		map[string]any{"ConditionCheck": map[string]any{"TableName": "T"}},
		map[string]any{"Delete": map[string]any{"TableName": "T"}},
	}}
	for _, tc := range []struct {
		target string
		body   any
		want   []Call
	}{
		{"DynamoDB_20120810.TransactWriteItems", tx, []Call{
			{"dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Audit"},
			{"dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T"},
			{"dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T"},
			{"dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T"}}},
		{"DynamoDB_20120810.Query", map[string]any{"TableName": "T", "IndexName": "gsi1"},
			[]Call{{"dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/T/index/gsi1"}}},
		{"AWSStepFunctions.SendTaskSuccess", map[string]any{"taskToken": "tok"}, []Call{{"states:SendTaskSuccess", "*"}}},
		{"AWSStepFunctions.StartExecution", map[string]any{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:M"},
			[]Call{{"states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:M"}}},
		{"AWSEvents.PutEvents", map[string]any{"Entries": []any{map[string]any{"Source": "x"}}},
			[]Call{{"events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default"}}},
	} {
		got, err := acct.Calls(jsonRequest(t, "k", tc.target, tc.body), mustJSON(t, tc.body))
		require.NoError(t, err, tc.target)
		assert.Equal(t, tc.want, got, tc.target)
	}
	inv := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions/CommitFunction/invocations", nil)
	got, err := acct.Calls(inv, nil)
	require.NoError(t, err)
	assert.Equal(t, []Call{{"lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:CommitFunction"}}, got)

	get := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566/bucket/cohorts/a.csv", nil)
	get.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=k/20261203/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x")
	got, err = acct.Calls(get, nil)
	require.NoError(t, err)
	assert.Equal(t, []Call{{"s3:GetObject", "arn:aws:s3:::bucket/cohorts/a.csv"}}, got)
	get.Host = "bucket.localhost:4566"
	get.URL.Path = "/cohorts/a.csv"
	got, err = acct.Calls(get, nil)
	require.NoError(t, err)
	assert.Equal(t, []Call{{"s3:GetObject", "arn:aws:s3:::bucket/cohorts/a.csv"}}, got, "virtual-hosted style")

	_, err = acct.Calls(jsonRequest(t, "k", "AWSStepFunctions.TagResource", map[string]any{}), []byte(`{}`))
	assert.Error(t, err, "an action without a rule cannot be judged")
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// The handler lets the operator and allowed calls through and answers a
// refused one as DynamoDB does, recording it.
func TestHandlerRefusesWhatTheRoleDoesNotAllow(t *testing.T) {
	e := NewEnforcer(acct, []Role{{Name: "Fn", Policies: []Policy{policy(t,
		`{"Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/T"}]}`)}}})
	var reached []string
	h := e.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reached = append(reached, string(b))
	}))
	serve := func(key, target string, body any) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, jsonRequest(t, key, target, body))
		return w
	}
	assert.Equal(t, 200, serve(AccessKeyID("Fn"), "DynamoDB_20120810.GetItem", map[string]any{"TableName": "T"}).Code)
	assert.Equal(t, 200, serve("test", "DynamoDB_20120810.DeleteTable", map[string]any{"TableName": "T"}).Code, "the operator")
	w := serve(AccessKeyID("Fn"), "DynamoDB_20120810.PutItem", map[string]any{"TableName": "T"})
	assert.Equal(t, 400, w.Code)
	var body map[string]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, "com.amazon.coral.service#AccessDeniedException", body["__type"])
	assert.Contains(t, body["message"], "assumed-role/Fn/Fn is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/T")
	assert.Equal(t, 400, serve(AccessKeyID("Unknown"), "DynamoDB_20120810.GetItem", map[string]any{"TableName": "T"}).Code, "a role the template does not have")
	assert.Equal(t, 400, serve("ak", "DynamoDB_20120810.GetItem", map[string]any{"TableName": "T"}).Code, "the interpreter without a role")
	assert.Len(t, reached, 2, "refused calls never reach moto")
	assert.Equal(t, `{"TableName":"T"}`, reached[0], "the body reaches moto whole")
	require.Len(t, e.Denials(), 3)
	assert.Equal(t, "dynamodb:PutItem", e.Denials()[0].Call.Action)
	assert.Equal(t, map[string][]Call{"Fn": {{"dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/T"}}}, e.Used())
}
