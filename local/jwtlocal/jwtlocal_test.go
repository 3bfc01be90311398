package jwtlocal

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestKeyIsCreatedOnceAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".local", "key.pem")
	// Racing creators (the stack and `make token`) must agree on one key.
	keys := make([]string, 4)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreateKey(path)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = k.N.String()
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k != keys[0] {
			t.Fatal("racing creators got different keys")
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", st.Mode().Perm())
	}
}

func TestMintVerify(t *testing.T) {
	k, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	a := &Authority{Key: k, Issuer: Issuer, Audience: "account-migration"}
	tok, err := a.Mint("microapp", "ma-1001", "alice@example.com", "migration:ops", "x")
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if v.Claims["sub"] != "ma-1001" || v.Claims["platform"] != "microapp" || v.Claims["login"] != "alice@example.com" || len(v.Scopes) != 3 || v.Scopes[0] != DeveloperScope || v.Claims["jti"] == "" {
		t.Fatalf("claims %v scopes %v", v.Claims, v.Scopes)
	}
	later := &Authority{Key: k, Issuer: Issuer, Audience: "account-migration", Now: func() time.Time { return time.Now().Add(TokenTTL + time.Minute) }}
	if _, err := later.Verify(tok); err == nil {
		t.Fatal("token valid after its TTL")
	}
	dev, _ := a.Mint("microapp", "ma-1001", "alice@example.com")
	v, _ = a.Verify(dev)
	if v.Claims["scope"] != DeveloperScope {
		t.Fatalf("a developer's token has the developer scope: %v", v.Claims["scope"])
	}
	noScope, _ := a.MintExact("microapp", "ma-1001", "alice@example.com")
	v, _ = a.Verify(noScope)
	if _, ok := v.Claims["scope"]; ok {
		t.Fatal("scope claim present without scopes")
	}
}
