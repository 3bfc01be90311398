package reliability

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/jwtlocal"
	"github.com/devplatform/account-migration/shared/httpapi"
	"github.com/devplatform/account-migration/shared/migration"
)

// Authentication and isolation over the real local HTTP API: the JWT
// authorizer refuses every token it should (401), ops routes need their scope
// (403), another account's migration, batch or target account does not exist
// for the caller (404, nothing changed), and no token or agreement text ever
// reaches a log.

// audience is the template's default JwtAudience, which the stack uses.
const audience = "account-migration"

// forger mints tokens with any claims, header and key.
type forger struct {
	key   *rsa.PrivateKey // the stack's own signing key
	other *rsa.PrivateKey // a key the stack never saw
}

func newForger(t *testing.T) forger {
	t.Helper()
	key, err := jwtlocal.LoadOrCreateKey(filepath.Join(projectDir, jwtlocal.DefaultKeyPath))
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return forger{key: key, other: other}
}

// claims are alice's, valid now; edit them to break one thing at a time.
func aliceClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": jwtlocal.Issuer, "aud": audience, "sub": "ma-1001", "platform": "microapp", "login": "alice@example.com",
		"scope": jwtlocal.DeveloperScope, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func (f forger) sign(t *testing.T, c jwt.MapClaims, key *rsa.PrivateKey) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(key)
	require.NoError(t, err)
	return s
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestTokensTheAuthorizerRefuses(t *testing.T) {
	s := sharedStack(t)
	f := newForger(t)
	valid := f.sign(t, aliceClaims(), f.key)
	require.Equal(t, http.StatusOK, send(t, s, "GET", "/v1/plan", valid, nil).Status, "the control: a valid token is accepted")

	hour := time.Hour
	now := time.Now()
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	pubDER, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsConfused, err := jwt.NewWithClaims(jwt.SigningMethodHS256, aliceClaims()).SignedString(pubPEM)
	require.NoError(t, err)
	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, aliceClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	bobPayload := b64([]byte(`{"iss":"` + jwtlocal.Issuer + `","aud":"` + audience + `","sub":"ma-2002","platform":"microapp","login":"bob@example.com","scope":"` + jwtlocal.DeveloperScope + `","exp":` +
		itoa(now.Add(hour).Unix()) + `}`))

	// (A token without "Bearer " is accepted, as API Gateway accepts it.)
	cases := []struct {
		name, authorization string
		// verified: the authorizer accepts the token, the function refuses
		// its claims; the ops route's scope check (in the authorizer) comes
		// first there, so it answers 403.
		verified bool
	}{
		{"no header", "", false},
		{"empty bearer", "Bearer ", false},
		{"basic auth", "Basic YWxpY2U6cGFzc3dvcmQ=", false},
		{"garbage", "Bearer not.a.jwt", false},
		{"expired", "Bearer " + f.sign(t, with(aliceClaims(), "exp", now.Add(-hour).Unix()), f.key), false},
		{"expired beyond the leeway", "Bearer " + f.sign(t, with(aliceClaims(), "exp", now.Add(-30*time.Second).Unix()), f.key), false},
		{"not yet valid", "Bearer " + f.sign(t, with(aliceClaims(), "nbf", now.Add(hour).Unix()), f.key), false},
		{"issued in the future", "Bearer " + f.sign(t, with(aliceClaims(), "iat", now.Add(hour).Unix()), f.key), false},
		{"no expiry", "Bearer " + f.sign(t, with(aliceClaims(), "exp", nil), f.key), false},
		{"wrong issuer", "Bearer " + f.sign(t, with(aliceClaims(), "iss", "https://evil.example/"), f.key), false},
		{"no issuer", "Bearer " + f.sign(t, with(aliceClaims(), "iss", nil), f.key), false},
		{"wrong audience", "Bearer " + f.sign(t, with(aliceClaims(), "aud", "another-api"), f.key), false},
		{"audience list without ours", "Bearer " + f.sign(t, with(aliceClaims(), "aud", []string{"a", "b"}), f.key), false},
		{"alg none", "Bearer " + unsigned, false},
		{"alg none, no dot", "Bearer " + strings.TrimSuffix(unsigned, "."), false},
		{"forged signature (another key)", "Bearer " + f.sign(t, aliceClaims(), f.other), false},
		{"HS256 keyed with the public key", "Bearer " + hsConfused, false},
		{"payload swapped under alice's signature", "Bearer " + parts[0] + "." + bobPayload + "." + parts[2], false},
		{"signature stripped", "Bearer " + parts[0] + "." + parts[1] + ".", false},
		{"not an old platform", "Bearer " + f.sign(t, with(aliceClaims(), "platform", "developer"), f.key), true},
		{"account id with path characters", "Bearer " + f.sign(t, with(aliceClaims(), "sub", "../ma-2002"), f.key), true},
		{"no account id", "Bearer " + f.sign(t, with(aliceClaims(), "sub", nil), f.key), true},
	}
	before := settledState(t, s)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, route := range []struct{ method, path string }{
				{"GET", "/v1/plan"}, {"POST", "/v1/migrations"}, {"GET", "/v1/agreement"}, {"GET", "/v1/ops/accounts/microapp/ma-1001/migration"},
			} {
				r := send(t, s, route.method, route.path, "", []byte(`{}`), "Authorization", c.authorization, "Content-Type", "application/json")
				want, code := http.StatusUnauthorized, "UNAUTHORIZED"
				if c.verified && strings.Contains(route.path, "/ops/") {
					want, code = http.StatusForbidden, "FORBIDDEN"
				}
				assert.Equal(t, want, r.Status, "%s %s: %s", route.method, route.path, r.Raw)
				assert.Equal(t, code, r.Code(), r.Raw)
			}
		})
	}
	assert.Equal(t, before, readStackState(t, s), "refused requests changed nothing")
}

// Ops routes need the migration:ops scope; nothing less or alike will do.
func TestOpsRouteNeedsItsScope(t *testing.T) {
	s := sharedStack(t)
	alice := token(t, s, "microapp", "ma-1001", "alice@example.com")
	activeMigration(t, s, alice)
	path := "/v1/ops/accounts/microapp/ma-1001/migration"
	for _, scopes := range [][]string{nil, {"migration"}, {"migration:opsx"}, {"MIGRATION:OPS"}, {"migration:ops:read"}, {"openid", "profile"}} {
		r := send(t, s, "GET", path, token(t, s, "microapp", "ma-2002", "bob@example.com", scopes...), nil)
		assert.Equal(t, http.StatusForbidden, r.Status, "scopes %v: %s", scopes, r.Raw)
		assert.Equal(t, "FORBIDDEN", r.Code())
		assert.NotContains(t, r.Raw, "ma-1001\"", "nothing of the account leaks")
	}
	ops := send(t, s, "GET", path, token(t, s, "microapp", "ma-2002", "bob@example.com", "openid", httpapi.OpsScope), nil)
	assert.Equal(t, http.StatusOK, ops.Status, "the control: with the scope, ops see it: %s", ops.Raw)
}

// Alice's migration, batches and target accounts do not exist for anyone
// else, whatever they try, and trying changes nothing.
func TestAnotherAccountsMigrationIsNotFound(t *testing.T) {
	s := sharedStack(t)
	alice := token(t, s, "microapp", "ma-1001", "alice@example.com")
	mid, batches := activeMigration(t, s, alice)
	a := migration.CurrentAgreement()
	require.Equal(t, http.StatusOK, send(t, s, "GET", "/v1/migrations/"+mid, alice, nil).Status, "the control: alice sees hers")
	require.Equal(t, http.StatusOK, send(t, s, "GET", "/v1/targets/developer/accounts/dev-alice-1", alice, nil).Status, "and her target account")
	before := settledState(t, s)

	others := map[string]string{
		"bob (same platform)":            token(t, s, "microapp", "ma-2002", "bob@example.com"),
		"carol (another platform)":       token(t, s, "douyin_open_legacy", "dl-3003", "carol@example.com"),
		"alice's id on another platform": token(t, s, "third_party", "ma-1001", "alice@example.com"),
		"bob claiming alice's login":     token(t, s, "microapp", "ma-2002", "alice@example.com"),
		"an account that does not exist": token(t, s, "microapp", "ma-9999", "mallory@example.com"),
	}
	for who, tok := range others {
		t.Run(who, func(t *testing.T) {
			for _, bid := range batches {
				base := "/v1/migrations/" + mid + "/batches/" + bid
				for _, r := range []reply{
					send(t, s, "GET", "/v1/migrations/"+mid, tok, nil),
					send(t, s, "GET", base, tok, nil),
					sendJSON(t, s, "POST", base+"/agreement", tok, map[string]string{"version": a.Version, "sha256": a.SHA256}, "Idempotency-Key", "x-"+bid),
					send(t, s, "GET", base+"/targets", tok, nil),
					sendJSON(t, s, "PUT", base+"/target", tok, map[string]string{"mode": "existing", "accountId": "dev-alice-1"}),
					sendJSON(t, s, "PUT", base+"/target", tok, map[string]string{"mode": "new"}, "Idempotency-Key", "y-"+bid),
					sendJSON(t, s, "POST", base+"/commit", tok, map[string]bool{"confirm": true}, "Idempotency-Key", "z-"+bid),
				} {
					assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
					assert.Equal(t, "NOT_FOUND", r.Code(), r.Raw)
				}
			}
			// The login that owns a target account is the stored one, never
			// the token's claim.
			for _, acct := range []string{"developer/accounts/dev-alice-1", "developer/accounts/dev-alice-2"} {
				r := send(t, s, "GET", "/v1/targets/"+acct, tok, nil)
				assert.Equal(t, http.StatusNotFound, r.Status, r.Raw)
			}
		})
	}
	assert.Equal(t, before, readStackState(t, s), "nothing changed")
}

// Tokens (valid or not) and the agreement text never reach a log: neither the
// stack's (HTTP API, functions, moto) nor this process's.
func TestSecretsStayOutOfLogs(t *testing.T) {
	s := sharedStack(t)
	f := newForger(t)
	alice := token(t, s, "microapp", "ma-1001", "alice@example.com")
	ops := token(t, s, "microapp", "ma-2002", "bob@example.com", httpapi.OpsScope)
	expired := f.sign(t, with(aliceClaims(), "exp", time.Now().Add(-time.Hour).Unix()), f.key)
	forged := f.sign(t, aliceClaims(), f.other)

	ag := send(t, s, "GET", "/v1/agreement", alice, nil)
	require.Equal(t, http.StatusOK, ag.Status, ag.Raw)
	text, _ := ag.Body["text"].(string)
	require.Equal(t, migration.CurrentAgreement().Text, text)
	var requestIDs []string
	for _, r := range []struct {
		tok, method, path string
		body              any
	}{
		{alice, "GET", "/v1/plan", nil},
		{alice, "POST", "/v1/migrations", map[string]any{}},
		{alice, "POST", "/v1/migrations/m-nope/batches/b-nope/agreement", map[string]string{"version": "1", "sha256": text}},
		{ops, "GET", "/v1/ops/accounts/microapp/ma-1001/migration", nil},
		{expired, "GET", "/v1/plan", nil},
		{forged, "GET", "/v1/plan", nil},
		{alice, "GET", "/v1/agreement", nil},
	} {
		res := sendJSON(t, s, r.method, r.path, r.tok, r.body)
		if id := requestID(res); id != "" {
			requestIDs = append(requestIDs, id)
		}
	}
	require.NotEmpty(t, requestIDs)
	// The functions' output reaches the buffer through pipes: wait until the
	// last request's own log line is in, so nothing logged is still on its way.
	last := requestIDs[len(requestIDs)-1]
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(stackLogs.String(), last) {
		require.True(t, time.Now().Before(deadline), "the API never logged request %s; logs:\n%s", last, tail(stackLogs.String(), 2000))
		time.Sleep(50 * time.Millisecond)
	}

	logs := stackLogs.String()
	for name, tok := range map[string]string{"alice's token": alice, "the ops token": ops, "an expired token": expired, "a forged token": forged} {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		assert.NotContains(t, logs, tok, name)
		assert.NotContains(t, logs, sig, "%s: not even its signature", name)
	}
	assert.NotContains(t, logs, "Bearer ey", "no Authorization header")
	for _, line := range agreementLines(text) {
		assert.NotContains(t, logs, line, "a line of the agreement text")
	}
}

// requestID is the API's id of an answer, which its log lines carry.
func requestID(r reply) string {
	if id := r.Header.Get("x-request-id"); id != "" {
		return id
	}
	return r.Header.Get("apigw-requestid")
}

// agreementLines are the agreement's distinctive lines (long enough that
// finding one in a log can only mean the text was logged).
func agreementLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); len(l) >= 40 {
			out = append(out, l)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
