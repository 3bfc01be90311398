package client

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/api"
)

// A client generated from the spec keeps working the day a release adds an
// error code or a state: openapi-typescript (pinned in
// testdata/generated/package.json, installed with npm ci on first use)
// generates the TypeScript types, and a file that assigns values no release
// has yet must compile; a control file that assigns a number must not.
//
// A Python client is not generated here: openapi-python-client comes from
// PyPI and openapi-generator's npm wrapper downloads its JAR from Maven
// Central, neither of which this project's machines reach. The open form
// (anyOf an enum and a string) is the one openapi-python-client turns into
// "the enum, else the string".
func TestGeneratedTypeScriptClientReadsValuesALaterReleaseAdds(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "generated"))
	require.NoError(t, err)
	npm, err := exec.LookPath("npm")
	require.NoError(t, err, "this test needs Node.js and npm (README: what a machine needs)")
	installed, lock := filepath.Join(dir, "node_modules", ".package-lock.json"), filepath.Join(dir, "package-lock.json")
	if fresh, err := newer(installed, lock); err != nil || !fresh {
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci:\n%s", out)
	}
	bin := func(name string) string { return filepath.Join(dir, "node_modules", ".bin", name) }

	tmp := t.TempDir()
	out, err := exec.Command(bin("openapi-typescript"), filepath.Join(dir, "..", "..", "..", "openapi.yaml"), "-o", filepath.Join(tmp, "api.ts")).CombinedOutput()
	require.NoError(t, err, "openapi-typescript:\n%s", out)
	for _, f := range []string{"accepts.ts", "refuses.ts"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tmp, f), b, 0o600))
	}
	// One compiler run: every error must be the control's, none the client's.
	out, err = exec.Command(bin("tsc"), "--strict", "--noEmit", "--pretty", "false", "--target", "es2022", "--module", "es2022",
		"--moduleResolution", "bundler", filepath.Join(tmp, "api.ts"), filepath.Join(tmp, "accepts.ts"), filepath.Join(tmp, "refuses.ts")).CombinedOutput()
	require.Error(t, err, "the control must not compile:\n%s", out)
	var errs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(line, "error TS") {
			errs = append(errs, line)
		}
	}
	require.Len(t, errs, 2, "exactly the control's two assignments fail:\n%s", out)
	for _, e := range errs {
		assert.Regexp(t, `refuses\.ts\(\d+,\d+\): error TS2322`, e, "a value a later release adds must type-check")
	}
}

// newer reports whether a exists and is not older than b.
func newer(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return !sa.ModTime().Before(sb.ModTime()), nil
}

// The published spec is open for clients; the service's own answers are
// checked against the closed view (Spec), so an undeclared value still fails.
func TestOpenEnumsAreOpenForClientsAndClosedForTheService(t *testing.T) {
	published, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	closed, err := Spec()
	require.NoError(t, err)
	for name, later := range map[string]string{"BatchState": "PAUSED_BY_OPS", "MigrationState": "ARCHIVED", "NextAction": "CONTACT_SUPPORT", "SkipReason": "ON_HOLD"} {
		open := published.Components.Schemas[name].Value
		assert.NoError(t, open.VisitJSON(later), "%s: a client reads %s", name, later)
		assert.Error(t, closed.Components.Schemas[name].Value.VisitJSON(later), "%s: the service never answers %s", name, later)
		assert.NoError(t, closed.Components.Schemas[name].Value.VisitJSON(KnownValues(open)[0]), name)
	}
	assert.Contains(t, KnownValues(published.Components.Schemas["BatchState"].Value), "COMMITTING")

	code := func(doc *openapi3.T) *openapi3.Schema {
		return doc.Components.Schemas["Error409"].Value.Properties["error"].Value.Properties["code"].Value
	}
	assert.NoError(t, code(published).VisitJSON("A_CODE_ADDED_LATER"))
	assert.Error(t, code(closed).VisitJSON("A_CODE_ADDED_LATER"))
	assert.Error(t, code(closed).VisitJSON("QUOTA_EXCEEDED"), "a 422 code is no 409 code")
	assert.Contains(t, KnownValues(code(published)), "WRONG_STEP")

	// What the client sends stays closed.
	assert.Error(t, published.Components.Schemas["TargetPlatform"].Value.VisitJSON("enterprise"))
}
