// Command token prints a bearer token the local stack's API accepts, with
// the developer scope the developer routes need
// (`make token ACCOUNT=<platform>:<accountId> [SCOPE=migration:ops]`). It
// signs with the same key file, issuer and audience as the stack.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/jwtlocal"
)

func main() {
	account := flag.String("account", "microapp:ma-1001", "old-platform account as <platform>:<accountId>")
	scope := flag.String("scope", "", "scopes, space- or comma-separated (e.g. migration:ops)")
	login := flag.String("login", "", "login claim (default: the account's login in the demo snapshot, else <accountId>@example.com)")
	projectDir := flag.String("project-dir", ".", "directory of template.yaml (for JwtAudience) and .local/")
	audience := flag.String("audience", "", "aud claim (default: the template's JwtAudience)")
	flag.Parse()
	tok, err := mint(*account, *scope, *login, *projectDir, *audience)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
	fmt.Println(tok)
}

func mint(account, scope, login, projectDir, audience string) (string, error) {
	platform, accountID, ok := strings.Cut(account, ":")
	if !ok || platform == "" || accountID == "" {
		return "", fmt.Errorf("-account %q: want <platform>:<accountId>", account)
	}
	if login == "" {
		if l, ok := demo.Login(platform, accountID); ok {
			login = l
		} else {
			login = accountID + "@example.com"
		}
	}
	if audience == "" {
		tpl, err := cfn.Load(filepath.Join(projectDir, "template.yaml"))
		if err != nil {
			return "", err
		}
		params, err := tpl.ParameterValues(nil)
		if err != nil {
			return "", err
		}
		audience = params["JwtAudience"]
	}
	key, err := jwtlocal.LoadOrCreateKey(filepath.Join(projectDir, jwtlocal.DefaultKeyPath))
	if err != nil {
		return "", err
	}
	a := &jwtlocal.Authority{Key: key, Issuer: jwtlocal.Issuer, Audience: audience}
	scopes := strings.FieldsFunc(scope, func(r rune) bool { return r == ',' || r == ' ' })
	return a.Mint(platform, accountID, login, scopes...)
}
