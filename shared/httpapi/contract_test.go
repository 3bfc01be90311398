package httpapi

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/devplatform/account-migration/api"
	"github.com/devplatform/account-migration/api/client"
	"github.com/devplatform/account-migration/shared/migration"
)

// The API is described three times: api/openapi.yaml (what callers read),
// template.yaml's HttpApi events (what API Gateway routes and authorizes) and
// routes() (what the function serves). They must say the same routes, methods
// and authorization.

// routeSet maps "METHOD /path" to how it is authorized: "none", "token" or
// the scope it needs.
type routeSet map[string]string

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background(), openapi3.DisableExamplesValidation()), "api/ checks the examples")
	return doc
}

func specRoutes(t *testing.T, doc *openapi3.T) routeSet {
	out := routeSet{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			access := "token"
			security := op.Security
			if security == nil {
				security = &doc.Security // the document's default
			}
			if security != nil {
				access = "none"
				for _, req := range *security {
					access = "token"
					for _, scopes := range req {
						if len(scopes) > 0 {
							access = strings.Join(scopes, " ")
						}
					}
				}
			}
			out[method+" "+path] = access
		}
	}
	return out
}

// templateRoutes reads ApiFunction's HttpApi events from template.yaml.
func templateRoutes(t *testing.T) routeSet {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Resources map[string]struct {
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Path   string `yaml:"Path"`
						Method string `yaml:"Method"`
						Auth   struct {
							Authorizer          string   `yaml:"Authorizer"`
							AuthorizationScopes []string `yaml:"AuthorizationScopes"`
						} `yaml:"Auth"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	out := routeSet{}
	for _, ev := range doc.Resources["ApiFunction"].Properties.Events {
		if ev.Type != "HttpApi" {
			continue
		}
		p := ev.Properties
		access := "token"
		switch {
		case p.Auth.Authorizer == "NONE":
			access = "none"
		case len(p.Auth.AuthorizationScopes) > 0:
			access = strings.Join(p.Auth.AuthorizationScopes, " ")
		}
		out[strings.ToUpper(p.Method)+" "+p.Path] = access
	}
	return out
}

func routerRoutes() routeSet {
	out := routeSet{}
	for key, rt := range (&API{}).routes() {
		access := "none"
		if rt.auth {
			access = "token"
		}
		if rt.auth {
			access = DeveloperScope // authenticate's rule for every route without a scope of its own
		}
		if rt.scope != "" {
			access = rt.scope
		}
		out[key] = access
	}
	out[ConsoleRoute] = "none" // Handle serves the page before the JSON routes
	return out
}

func TestSpecTemplateAndRouterAgree(t *testing.T) {
	spec := specRoutes(t, loadSpec(t))
	require.NotEmpty(t, spec)
	assert.Equal(t, spec, templateRoutes(t), "api/openapi.yaml (expected) and template.yaml's ApiFunction HttpApi events (actual) disagree")
	assert.Equal(t, spec, routerRoutes(), "api/openapi.yaml (expected) and shared/httpapi routes() (actual) disagree")
}

// standInCodes are answered by the local API Gateway stand-in, not by this
// function. IDEMPOTENCY_KEY_IN_USE is the concurrent twin's 409 (docs/CONTRACT.md
// §2) the idempotency work adds to statusOf.
var standInCodes = map[string]bool{"STARTING": true, "BAD_REQUEST": true, "IDEMPOTENCY_KEY_IN_USE": true}

// api/openapi.yaml is valid OpenAPI 3.1 as the reference validator reads it
// (kin-openapi is more lenient: it let an x-error-codes beside a $ref pass,
// which 3.1 forbids and code generators drop). The validator is Python's
// openapi-spec-validator (.ci/run installs it); without it this fails.
func TestSpecPassesOpenAPISpecValidator(t *testing.T) {
	bin, err := exec.LookPath("openapi-spec-validator")
	require.NoError(t, err, "install it: python3 -m pip install openapi-spec-validator==0.9.0")
	out, err := exec.Command(bin, "../../api/openapi.yaml").CombinedOutput()
	require.NoError(t, err, "openapi-spec-validator api/openapi.yaml:\n%s", out)
	assert.Contains(t, string(out), "OK")
}

// The spec's error schemas (Error<status>) enumerate the codes of each status;
// they must be errors.go's table, and each route's x-error-codes a subset.
// The codes sit on each route's own response object (3.1 allows nothing
// beside a $ref), never on a $ref.
func TestSpecErrorCodesAreTheStatusTable(t *testing.T) {
	doc := loadSpec(t)
	specStatus := map[string]int{}
	for name, s := range doc.Components.Schemas {
		status, err := strconv.Atoi(strings.TrimPrefix(name, "Error"))
		if !strings.HasPrefix(name, "Error") || err != nil {
			continue
		}
		for _, c := range client.KnownValues(s.Value.Properties["error"].Value.Properties["code"].Value) {
			specStatus[c.(string)] = status
		}
	}
	for code, status := range statusOf {
		assert.Equal(t, status, specStatus[string(code)], "code %s: errors.go says %d, the spec's Error%d lists it", code, status, specStatus[string(code)])
	}
	for code, status := range specStatus {
		if !standInCodes[code] {
			assert.Equal(t, status, statusOf[migration.Code(code)], "the spec lists %s under %d; errors.go has no such code there", code, status)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for st, ref := range op.Responses.Map() {
				status, _ := strconv.Atoi(st)
				_, besideRef := ref.Extensions["x-error-codes"]
				assert.False(t, besideRef && ref.Ref != "", "%s %s %s: x-error-codes beside a $ref", method, path, st)
				codes, _ := ref.Value.Extensions["x-error-codes"].([]any)
				for _, c := range codes {
					assert.Equal(t, status, specStatus[c.(string)], "%s %s: x-error-codes %s under %d", method, path, c, status)
				}
				if status >= 400 && status != http.StatusTooManyRequests { // 429: API Gateway's own {"message"}, no code
					assert.NotEmpty(t, codes, "%s %s %d lists no x-error-codes", method, path, status)
				}
			}
		}
	}
}

func TestServesItsOpenAPIWithoutAToken(t *testing.T) {
	res, err := quietAPI().Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /openapi.yaml", Headers: map[string]string{}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/yaml", res.Headers["content-type"])
	assert.Equal(t, string(api.OpenAPI), res.Body)
}
