package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/faultproxy"
)

// upstream stands in for DynamoDB: it records what reached it and answers
// every operation with an empty JSON object (a valid answer for GetItem,
// PutItem and UpdateItem without return values).
type upstream struct {
	mu       sync.Mutex
	received []received
}

type received struct {
	Op, Host, Path, Body, Auth string
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.received = append(u.received, received{Op: faultproxy.Operation(r.Header.Get("X-Amz-Target")), Host: r.Host, Path: r.URL.Path,
		Body: string(b), Auth: r.Header.Get("Authorization")})
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "upstream")
	_, _ = io.WriteString(w, "{}")
}

func (u *upstream) ops() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, len(u.received))
	for i, r := range u.received {
		out[i] = r.Op
	}
	return out
}

func start(t *testing.T, opts faultproxy.Options, rules ...faultproxy.Rule) (*faultproxy.Server, *upstream, *dynamodb.Client) {
	t.Helper()
	up := &upstream{}
	us := httptest.NewServer(up)
	t.Cleanup(us.Close)
	p, err := faultproxy.Start(us.URL, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	p.SetRules(rules...)
	db := dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(p.URL),
		// One attempt: each test sees exactly what the proxy answered.
		Retryer: func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) },
	})
	return p, up, db
}

var (
	table = aws.String("t")
	key   = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberS{Value: "#"}}
)

func put(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: key})
	return err
}

func get(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key})
	return err
}

// Throttling is answered as DynamoDB answers it, so the SDK (and the store's
// error mapping) see the modelled exception; nothing reaches the table.
func TestThrottleLooksLikeDynamoDB(t *testing.T) {
	ctx := context.Background()
	p, up, db := start(t, faultproxy.Options{}, faultproxy.Rule{Kind: faultproxy.Throttle, Probability: 1, Operations: []string{"PutItem"}})

	err := put(ctx, db)
	var pte *types.ProvisionedThroughputExceededException
	require.ErrorAs(t, err, &pte)
	var re interface{ HTTPStatusCode() int }
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusBadRequest, re.HTTPStatusCode())
	assert.True(t, retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool(), "the SDK treats it as throttling")
	assert.Empty(t, up.ops(), "a throttled request never reaches the table")

	p.SetRules(faultproxy.Rule{Kind: faultproxy.Throttle, Probability: 1, Code: faultproxy.CodeThrottling})
	err = get(ctx, db)
	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, faultproxy.CodeThrottling, api.ErrorCode())
	assert.Equal(t, 2, p.Counts().ByKind[faultproxy.Throttle])
	assert.Equal(t, 1, p.Counts().ByOperation["GetItem"][faultproxy.Throttle])
}

// Server errors carry the codes DynamoDB uses, with the HTTP status asked for.
func TestServerErrors(t *testing.T) {
	ctx := context.Background()
	p, up, db := start(t, faultproxy.Options{}, faultproxy.Rule{Kind: faultproxy.ServerError, Probability: 1, Limit: 1},
		faultproxy.Rule{Kind: faultproxy.ServerError, Probability: 1, Status: http.StatusServiceUnavailable, Limit: 1})

	for _, want := range []struct {
		status int
		code   string
	}{{500, "InternalServerError"}, {503, "ServiceUnavailable"}} {
		err := get(ctx, db)
		var api smithy.APIError
		require.ErrorAs(t, err, &api)
		assert.Equal(t, want.code, api.ErrorCode())
		var re interface{ HTTPStatusCode() int }
		require.ErrorAs(t, err, &re)
		assert.Equal(t, want.status, re.HTTPStatusCode())
	}
	assert.Empty(t, up.ops())
	require.NoError(t, get(ctx, db), "both rules used up: the request goes through")
	assert.Equal(t, []string{"GetItem"}, up.ops())
	assert.Equal(t, 2, p.Counts().ByKind[faultproxy.ServerError])
}

// The ambiguous write: the table received and applied the request, the caller
// got a connection reset and cannot know. The SDK classifies it as a
// connection error it may retry.
func TestLostAnswerAppliesThenResets(t *testing.T) {
	ctx := context.Background()
	p, up, db := start(t, faultproxy.Options{}, faultproxy.Rule{Kind: faultproxy.LostAnswer, Probability: 1, Operations: faultproxy.DynamoDBWrites})

	err := put(ctx, db)
	require.Error(t, err)
	var api smithy.APIError
	assert.False(t, errors.As(err, &api), "no answer at all, so no API error: %v", err)
	assert.Equal(t, aws.TrueTernary, retry.RetryableConnectionError{}.IsErrorRetryable(err), "a connection error: %v", err)
	assert.Equal(t, []string{"PutItem"}, up.ops(), "the write reached the table")

	require.NoError(t, get(ctx, db), "reads are not in the rule")
	c := p.Counts()
	assert.Equal(t, 1, c.ByKind[faultproxy.LostAnswer])
	assert.Equal(t, 2, c.Requests)
	assert.Equal(t, 2, c.Forwarded)
}

// Latency delays but forwards; the request arrives unchanged, with the Host
// the client signed.
func TestLatencyForwardsUnchanged(t *testing.T) {
	ctx := context.Background()
	p, up, db := start(t, faultproxy.Options{}, faultproxy.Rule{Kind: faultproxy.Latency, Probability: 1, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

	require.NoError(t, put(ctx, db))
	require.Len(t, up.received, 1)
	got := up.received[0]
	assert.Equal(t, "PutItem", got.Op)
	assert.Equal(t, strings.TrimPrefix(p.URL, "http://"), got.Host)
	assert.Equal(t, "/", got.Path)
	assert.Contains(t, got.Body, `"TableName":"t"`)
	assert.Contains(t, got.Auth, "AWS4-HMAC-SHA256", "the signature is passed on")
	assert.Equal(t, 1, p.Counts().ByKind[faultproxy.Latency])
}

// A caller that gives up during injected latency never reaches the table.
func TestLatencyHonoursCancellation(t *testing.T) {
	p, up, db := start(t, faultproxy.Options{}, faultproxy.Rule{Kind: faultproxy.Latency, Probability: 1, MinDelay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for p.Counts().ByKind[faultproxy.Latency] == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	require.ErrorIs(t, put(ctx, db), context.Canceled)
	assert.Empty(t, up.ops())
}

// Rules select by operation and body; the first matching rule wins.
func TestRuleSelection(t *testing.T) {
	ctx := context.Background()
	onlyTableU := func(_ string, body []byte) bool { return strings.Contains(string(body), `"TableName":"u"`) }
	p, up, db := start(t, faultproxy.Options{},
		faultproxy.Rule{Kind: faultproxy.ServerError, Probability: 1, Operations: []string{"DynamoDB_20120810.GetItem"}, Match: onlyTableU},
		faultproxy.Rule{Kind: faultproxy.Throttle, Probability: 1, Operations: []string{"UpdateItem"}},
		faultproxy.Rule{Kind: faultproxy.LostAnswer, Probability: 1, Operations: []string{"UpdateItem"}})

	require.NoError(t, get(ctx, db), "GetItem on another table passes")
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("u"), Key: key})
	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "InternalServerError", api.ErrorCode())
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: key})
	require.ErrorAs(t, err, &api)
	assert.Equal(t, faultproxy.CodeProvisionedThroughputExceeded, api.ErrorCode(), "the first matching rule wins")
	require.NoError(t, put(ctx, db))
	assert.Equal(t, []string{"GetItem", "PutItem"}, up.ops())
	c := p.Counts()
	assert.Equal(t, 0, c.ByKind[faultproxy.LostAnswer])
	assert.Equal(t, 2, c.Injected())
	assert.Equal(t, "requests=4 lost_answer=0 throttle=1 server_error=1 latency=0", c.String())
}

// One seed, one request order: one fault sequence. That makes a failing run
// reproducible.
func TestSeedReproducesFaults(t *testing.T) {
	pattern := func(seed uint64) string {
		_, _, db := start(t, faultproxy.Options{Seed: seed}, faultproxy.Rule{Kind: faultproxy.Throttle, Probability: 0.3})
		var b strings.Builder
		for i := 0; i < 60; i++ {
			if get(context.Background(), db) != nil {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b, c := pattern(7), pattern(7), pattern(8)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	n := strings.Count(a, "x")
	assert.True(t, n > 5 && n < 35, "about 30%% of 60 requests throttled, got %d: %s", n, a)
}

// Serialize forwards one request at a time, whatever the callers do.
func TestSerializeForwardsOneAtATime(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.Header().Set("x-amzn-RequestId", "upstream")
		_, _ = io.WriteString(w, "{}")
	})
	us := httptest.NewServer(slow)
	defer us.Close()
	p, err := faultproxy.Start(us.URL, faultproxy.Options{Serialize: true})
	require.NoError(t, err)
	defer p.Close()

	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Post(p.URL, "application/json", strings.NewReader(fmt.Sprint(i)))
			if assert.NoError(t, err) {
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, most)
	assert.Equal(t, 16, p.Counts().Forwarded)
}

func TestNewRefusesBadUpstream(t *testing.T) {
	_, err := faultproxy.New("127.0.0.1:80", faultproxy.Options{})
	assert.Error(t, err)
}
