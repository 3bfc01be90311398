// Package client is the one Go client of the HTTP API (api/openapi.yaml): typed
// calls for every operation, a raw Do for requests the typed calls cannot make
// (hostile bodies, odd paths), and a Validator transport that checks every
// answer against the spec. Tests and tools use it; the Lambda binaries do not.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Client calls the API as one caller (one token; "" for none).
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	// Header is sent with every request (e.g. User-Agent).
	Header http.Header
}

// New returns a client of the API at baseURL (e.g. http://127.0.0.1:3000).
func New(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{BaseURL: baseURL, Token: token, HTTP: hc, Header: http.Header{}}
}

// As returns a client of the same API for another token.
func (c *Client) As(token string) *Client {
	cp := *c
	cp.Token = token
	cp.Header = c.Header.Clone()
	return &cp
}

// Response is one raw answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// APIError is an answer with a status of 400 or more.
type APIError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
	Body      []byte
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, truncate(e.Body, 300))
	}
	return fmt.Sprintf("HTTP %d %s: %s (request %s)", e.Status, e.Code, e.Message, e.RequestID)
}

// CodeOf returns the API error code of err ("" when err is no APIError).
func CodeOf(err error) string {
	if e, ok := err.(*APIError); ok {
		return e.Code
	}
	return ""
}

// Option adds to one request.
type Option func(*http.Request)

// IdempotencyKey sets the Idempotency-Key header.
func IdempotencyKey(key string) Option {
	return func(r *http.Request) { r.Header.Set("Idempotency-Key", key) }
}

// WithHeader sets a header.
func WithHeader(name, value string) Option {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// Do sends one request exactly as given (body nil = none) and returns the
// answer whatever its status; err is only a transport failure.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, opts ...Option) (*Response, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for _, o := range opts {
		o(req)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: raw}, nil
}

// DoJSON sends v (unless nil) as an application/json body.
func (c *Client) DoJSON(ctx context.Context, method, path string, v any, opts ...Option) (*Response, error) {
	if v == nil {
		return c.Do(ctx, method, path, nil, opts...)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, method, path, b, append([]Option{WithHeader("Content-Type", "application/json")}, opts...)...)
}

// call is a typed call: out is decoded from a 2xx answer; any other answer is
// an *APIError.
func (c *Client) call(ctx context.Context, method, path string, in, out any, opts ...Option) (*Response, error) {
	res, err := c.DoJSON(ctx, method, path, in, opts...)
	if err != nil {
		return nil, err
	}
	if res.Status >= 400 {
		return res, apiError(res)
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return res, fmt.Errorf("%s %s: %d: %w: %s", method, path, res.Status, err, truncate(res.Body, 300))
	}
	return res, nil
}

func apiError(res *Response) *APIError {
	e := &APIError{Status: res.Status, Body: res.Body}
	var body struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"requestId"`
		} `json:"error"`
		Message string `json:"message"` // API Gateway's own answers
	}
	if json.Unmarshal(res.Body, &body) == nil {
		e.Code, e.Message, e.RequestID = body.Error.Code, body.Error.Message, body.Error.RequestID
		if e.Message == "" {
			e.Message = body.Message
		}
	}
	return e
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

func paged(path string, p Page) string {
	q := url.Values{}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func batchPath(migrationID, batchID string) string {
	return "/v1/migrations/" + url.PathEscape(migrationID) + "/batches/" + url.PathEscape(batchID)
}
