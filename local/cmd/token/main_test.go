package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/devplatform/account-migration/local/jwtlocal"
)

// The token command and the stack must agree: same key file, issuer and
// audience (the template's JwtAudience).
func TestTokenVerifiesWithStackAuthority(t *testing.T) {
	dir := t.TempDir()
	tpl, err := os.ReadFile("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), tpl, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := mint("douyin_open_legacy:dl-3003", "migration:ops", "", dir, "")
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwtlocal.LoadOrCreateKey(filepath.Join(dir, jwtlocal.DefaultKeyPath))
	if err != nil {
		t.Fatal(err)
	}
	v, err := (&jwtlocal.Authority{Key: key, Issuer: jwtlocal.Issuer, Audience: "account-migration"}).Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if v.Claims["login"] != "carol@example.com" || v.Claims["sub"] != "dl-3003" || len(v.Scopes) != 2 || v.Scopes[0] != jwtlocal.DeveloperScope {
		t.Fatalf("claims %v", v.Claims)
	}
	tok, _ = mint("third_party:tp-9", "", "", dir, "")
	v, _ = (&jwtlocal.Authority{Key: key, Issuer: jwtlocal.Issuer, Audience: "account-migration"}).Verify(tok)
	if v.Claims["login"] != "tp-9@example.com" {
		t.Fatalf("default login %v", v.Claims["login"])
	}
	if v.Claims["scope"] != jwtlocal.DeveloperScope {
		t.Fatalf("a developer's token carries the developer scope: %v", v.Claims["scope"])
	}
	if _, err := mint("nocolon", "", "", dir, ""); err == nil {
		t.Fatal("bad -account accepted")
	}
}
