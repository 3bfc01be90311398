// Package jwtlocal is the local stand-in for the identity provider whose
// tokens the HTTP API's JWT authorizer accepts: one RSA key kept under the
// project's .local/ directory, one issuer, RS256 only. The stack (verifying)
// and the token command (minting) both use it, so they always agree.
package jwtlocal

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss of local tokens; the stack passes it as JwtIssuer.
const Issuer = "https://local-issuer.account-migration.test/"

// DefaultKeyPath is where the signing key lives, relative to the project dir.
const DefaultKeyPath = ".local/jwt-signing-key.pem"

// Leeway tolerated on exp, nbf and iat (clock skew between processes).
const Leeway = 5 * time.Second

// TokenTTL is the lifetime of minted tokens.
const TokenTTL = time.Hour

// LoadOrCreateKey reads the PEM RSA key at path, creating a 2048-bit one
// (mode 0600) on first use. Two processes racing to create it end up with the
// same key: the file is published with a hard link, which fails if it exists.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if k, err := readKey(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".jwt-key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	werr := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := errors.Join(werr, tmp.Close()); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return readKey(path)
}

func readKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var parsed any
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: unexpected PEM block %q", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	k, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return k, nil
}

// Authority mints and verifies local tokens.
type Authority struct {
	Key      *rsa.PrivateKey
	Issuer   string
	Audience string
	// Now is the clock; nil = time.Now. Tests set it.
	Now func() time.Time
}

func (a *Authority) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// DeveloperScope is the scope the developer routes need (template.yaml's
// AuthorizationScopes, checked again by shared/httpapi): the platform's
// identity provider grants it to developers' sign-ins.
const DeveloperScope = "migration:developer"

// Mint signs a token for an old-platform account, with the claims the API
// reads (docs/CONTRACT.md §2): sub, platform, login and scope, which holds
// the developer scope (a developer's sign-in) and any scopes given.
func (a *Authority) Mint(platform, accountID, login string, scopes ...string) (string, error) {
	if platform != "" && accountID != "" && !slices.Contains(scopes, DeveloperScope) {
		scopes = append([]string{DeveloperScope}, scopes...)
	}
	return a.MintExact(platform, accountID, login, scopes...)
}

// MintExact signs a token with exactly these scopes (none: no scope claim),
// as a token from another client of the same issuer would come.
func (a *Authority) MintExact(platform, accountID, login string, scopes ...string) (string, error) {
	now := a.now()
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	claims := jwt.MapClaims{
		"iss":      a.Issuer,
		"aud":      a.Audience,
		"sub":      accountID,
		"platform": platform,
		"login":    login,
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(TokenTTL).Unix(),
		"jti":      hex.EncodeToString(jti[:]),
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.Key)
}

// Verified is what the authorizer learned from a valid token.
type Verified struct {
	Claims jwt.MapClaims
	Scopes []string // the space-separated scope claim
}

// Verify checks a token as API Gateway's JWT authorizer does: RS256 with our
// key only (never none or HS*), iss, aud containing our audience, exp present
// and not past, nbf and iat not in the future, each within Leeway.
func (a *Authority) Verify(raw string) (*Verified, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(a.Issuer),
		jwt.WithAudience(a.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(a.now),
	)
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return &a.Key.PublicKey, nil
	})
	if err != nil {
		return nil, err
	}
	v := &Verified{Claims: claims}
	if s, ok := claims["scope"].(string); ok {
		v.Scopes = strings.Fields(s)
	}
	return v, nil
}
