package apigw

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/internal/cfn"
)

const throttledTemplate = `
Parameters:
  PageBurst:
    Type: Number
    Default: 3
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings:
        ThrottlingRateLimit: 0.001
        ThrottlingBurstLimit: 5
      RouteSettings:
        "GET /":
          ThrottlingBurstLimit: !Ref PageBurst
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Page:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /, Method: GET}
        Health:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /healthz, Method: GET}
`

// The stage's limits as API Gateway applies them: each route its own bucket
// (the default's, or its own setting, which overrides only what it names),
// 429 {"message":"Too Many Requests"} past it, and a flooded route leaves
// the others alone. The rates are so low that no token comes back during
// the test: the counts do not depend on timing.
func TestThrottlingPerRoute(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "template.yaml")
	require.NoError(t, os.WriteFile(path, []byte(throttledTemplate), 0o600))
	tpl, err := cfn.Load(path)
	require.NoError(t, err)
	params, err := tpl.ParameterValues(nil)
	require.NoError(t, err)
	res := cfn.NewResolver(tpl, params)
	th, err := ThrottlingFromTemplate(tpl, res)
	require.NoError(t, err)
	assert.Equal(t, &Limit{Rate: 0.001, Burst: 5}, th.Default)
	assert.Equal(t, Limit{Rate: 0.001, Burst: 3}, th.Routes["GET /"], "the route's burst, the default's rate")

	routes, err := res.Routes()
	require.NoError(t, err)
	s := New(routes, nil, &fakeInvoker{})
	s.SetThrottling(th)
	s.SetReady()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	statuses := func(path string, n int) (ok, throttled int) {
		for i := 0; i < n; i++ {
			resp, err := http.Get(srv.URL + path)
			require.NoError(t, err)
			var body [64]byte
			k, _ := resp.Body.Read(body[:])
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				throttled++
				assert.JSONEq(t, `{"message":"Too Many Requests"}`, string(body[:k]))
			default:
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
		}
		return ok, throttled
	}
	ok, throttled := statuses("/", 10)
	assert.Equal(t, 3, ok, "the route's burst")
	assert.Equal(t, 7, throttled)
	ok, throttled = statuses("/healthz", 7)
	assert.Equal(t, 5, ok, "another route has a bucket of its own, with the default burst")
	assert.Equal(t, 2, throttled)
}

func TestThrottlingRefusesNonNumbers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "template.yaml")
	bad := "Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n      DefaultRouteSettings:\n        ThrottlingBurstLimit: lots\n"
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))
	tpl, err := cfn.Load(path)
	require.NoError(t, err)
	_, err = ThrottlingFromTemplate(tpl, cfn.NewResolver(tpl, map[string]string{}))
	assert.ErrorContains(t, err, "ThrottlingBurstLimit")
}
