package apigw

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/jwtlocal"
)

// TestDevSignInNeverDeploys: the console's development sign-in mints tokens
// for any account, so it must exist only in this local stand-in. No route of
// template.yaml may reach it, and the console itself is served without a token.
func TestDevSignInNeverDeploys(t *testing.T) {
	path := filepath.Join("..", "..", "..", "template.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^\s*Path:\s*"?/local`).Match(raw) {
		t.Fatal("template.yaml routes /local: the development sign-in must never deploy")
	}
	tpl, err := cfn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	params, _ := tpl.ParameterValues(nil)
	routes, err := cfn.NewResolver(tpl, params).Routes()
	if err != nil {
		t.Fatal(err)
	}
	console := false
	for _, r := range routes {
		if strings.HasPrefix(r.Path, "/local") || r.Path == "$default" || strings.Contains(r.Path, "+}") {
			t.Errorf("route %s could reach the development sign-in on AWS", r.RouteKey())
		}
		if r.RouteKey() == "GET /" {
			console = true
			if r.Auth || r.Function != "ApiFunction" {
				t.Errorf("GET / must be ApiFunction without an authorizer: %+v", r)
			}
		}
	}
	if !console {
		t.Error("template.yaml has no GET / route for the console")
	}
}

func TestDevSignIn(t *testing.T) {
	srv, auth, inv := setup(t)
	// Off unless the stack enables it: then /local/* is an unknown route.
	if status, _, body := do(t, "GET", srv.URL+"/local/accounts", "", nil); status != 404 || body["error"].(map[string]any)["code"] != "ROUTE_NOT_FOUND" {
		t.Fatalf("disabled: %d %v", status, body)
	}
	s := srv.Config.Handler.(*Server)
	accounts, err := DevAccounts(demo.Snapshot)
	if err != nil || len(accounts) == 0 {
		t.Fatalf("demo accounts: %v %v", accounts, err)
	}
	s.EnableDevSignIn(accounts)

	status, _, body := do(t, "GET", srv.URL+"/local/accounts", "", nil)
	list, _ := body["accounts"].([]any)
	if status != 200 || len(list) != len(accounts) {
		t.Fatalf("accounts: %d %v", status, body)
	}
	post := func(ct, payload string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/local/token", strings.NewReader(payload))
		req.Header.Set("Content-Type", ct)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = jsonDecode(res, &out)
		return res.StatusCode, out
	}
	status, out := post("application/json", `{"platform":"microapp","accountId":"ma-1001"}`)
	tok, _ := out["token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("token: %d %v", status, out)
	}
	v, err := auth.Verify(tok)
	if err != nil || v.Claims["sub"] != "ma-1001" || v.Claims["login"] != "alice@example.com" || v.Claims["scope"] != jwtlocal.DeveloperScope {
		t.Fatalf("minted token: %v %v", v, err)
	}
	// The minted token passes the authorizer like any other.
	if status, _, _ := do(t, "GET", srv.URL+"/v1/assets", tok, nil); status != 200 || inv.last.RequestContext.Authorizer.JWT.Claims["sub"] != "ma-1001" {
		t.Fatalf("minted token refused: %d", status)
	}
	for _, c := range []struct {
		ct, body string
		status   int
	}{
		{"application/json", `{"platform":"microapp","accountId":"nobody"}`, 404},
		{"application/json", `{"platform":"microapp","accountId":"ma-1001","scope":"migration:ops"}`, 400},
		{"text/plain", `{"platform":"microapp","accountId":"ma-1001"}`, 415},
	} {
		if status, out := post(c.ct, c.body); status != c.status || out["token"] != nil {
			t.Errorf("%s %s: %d %v", c.ct, c.body, status, out)
		}
	}
}

func TestRootRouteMatchesOnlyRoot(t *testing.T) {
	rr := newRouter([]cfn.Route{{Method: "GET", Path: "/", Function: "ApiFunction"}, {Method: "GET", Path: "/healthz", Function: "ApiFunction"}})
	if rt, _ := rr.find("GET", "/"); rt == nil || rt.Path != "/" {
		t.Fatalf("GET / not matched: %+v", rt)
	}
	if rt, _ := rr.find("GET", "/healthz"); rt == nil || rt.Path != "/healthz" {
		t.Fatalf("GET /healthz: %+v", rt)
	}
	if rt, _ := rr.find("GET", "/nope"); rt != nil {
		t.Fatalf("GET /nope matched %+v", rt)
	}
}

func jsonDecode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
