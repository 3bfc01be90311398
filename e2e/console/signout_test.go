package console

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Signing out leaves no name of the account in the browser's localStorage:
// the subject names the console remembered go with the token; the language
// and the pointer to the migration (ids) stay.
func TestSignOutClearsLocalStorage(t *testing.T) {
	s := startStack(t)
	b := newBrowser(t, s.APIURL, "en", 1280, 900)
	b.signInAs("ma-1001")
	b.startMigration() // the plan's subjects and the migration are remembered
	keys := func() []string {
		var out []string
		b.eval(`Object.keys(localStorage).filter(function (k) { return k.indexOf('console.') === 0; }).sort()`, &out)
		return out
	}
	var stored string
	b.eval(`JSON.stringify(localStorage)`, &stored)
	require.Contains(t, keys(), "console.subjects", "the control: the console remembered the subjects")
	require.True(t, strings.Contains(stored, "Acme"), "and their names: %s", stored)

	b.click(`#signout`)
	b.screen("signin")
	for _, k := range keys() {
		assert.True(t, k == "console.lang" || strings.HasPrefix(k, "console.migration."), "only the language and the migration's ids stay after sign-out: %s", k)
	}
	b.eval(`JSON.stringify(localStorage)`, &stored)
	assert.NotContains(t, stored, "Acme", "no subject name left")
	assert.NotContains(t, stored, "alice", "nor the login")
}
