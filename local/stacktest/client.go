package stacktest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	apiclient "github.com/devplatform/account-migration/api/client"
	"github.com/devplatform/account-migration/local/stack"
)

// Token mints a bearer token the stack's API accepts (ops add the scope
// "migration:ops").
func Token(t testing.TB, s *stack.Stack, platform, accountID, login string, scopes ...string) string {
	t.Helper()
	tok, err := s.Token(platform, accountID, login, scopes...)
	require.NoError(t, err)
	return tok
}

// SpecChecked is an HTTP client that fails t on any answer api/openapi.yaml
// does not describe: a field the code adds or drops without the spec.
func SpecChecked(t testing.TB) *http.Client {
	t.Helper()
	hc, err := apiclient.ValidatingHTTPClient(func(err error) { t.Error(err) })
	require.NoError(t, err)
	return hc
}

// Client is one caller of the stack's HTTP API: one token, the typed client
// (API) over a spec-checked transport, and Do/Send for requests by hand.
type Client struct {
	t     testing.TB
	URL   string
	Token string
	API   *apiclient.Client
}

// Developer is the client of an old-platform account (an ops caller when
// scopes hold "migration:ops").
func Developer(t testing.TB, s *stack.Stack, platform, accountID, login string, scopes ...string) *Client {
	t.Helper()
	return WithToken(t, s, Token(t, s, platform, accountID, login, scopes...))
}

// WithToken is the client of a token as given (foreign, expired or forged).
func WithToken(t testing.TB, s *stack.Stack, token string) *Client {
	t.Helper()
	return &Client{t: t, URL: s.APIURL, Token: token, API: apiclient.New(s.APIURL, token, SpecChecked(t))}
}

// Response is one answer: its status, headers, the JSON body decoded (nil
// when empty or not JSON) and the raw body.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// Code is the answer's error.code, "" when it has none.
func (r Response) Code() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// Do sends body (unless nil) as JSON, with headers as name, value pairs, and
// requires a JSON answer.
func (c *Client) Do(method, path string, body any, headers ...string) Response {
	c.t.Helper()
	res, err := c.API.DoJSON(context.Background(), method, path, body, options(headers)...)
	require.NoError(c.t, err)
	out := Response{Status: res.Status, Header: res.Header, Raw: string(res.Body)}
	if len(res.Body) > 0 {
		require.NoError(c.t, json.Unmarshal(res.Body, &out.Body), "body: %s", res.Body)
	}
	return out
}

// Send makes one raw request: the body and headers exactly as given (hostile
// requests included); the answer is decoded when it is JSON.
func (c *Client) Send(method, path string, body []byte, headers ...string) Response {
	c.t.Helper()
	res, err := c.API.Do(context.Background(), method, path, body, options(headers)...)
	require.NoError(c.t, err)
	out := Response{Status: res.Status, Header: res.Header, Raw: string(res.Body)}
	_ = json.Unmarshal(res.Body, &out.Body)
	return out
}

func options(headers []string) []apiclient.Option {
	var opts []apiclient.Option
	for i := 0; i+1 < len(headers); i += 2 {
		opts = append(opts, apiclient.WithHeader(headers[i], headers[i+1]))
	}
	return opts
}
