package stack

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/shared/migration"
)

// Every deploy, sync and validate configuration of samconfig.toml passes
// only parameters template.yaml has, with values its constraints accept (a
// stale one fails `sam deploy` at the worst moment: the prod release), and
// prod names its own browser origins rather than the local console's.
func TestSamconfigOverridesNameTemplateParameters(t *testing.T) {
	tpl, err := cfn.Load("../../template.yaml")
	require.NoError(t, err)
	var cfg map[string]any // env -> command -> "parameters" -> setting
	_, err = toml.DecodeFile("../../samconfig.toml", &cfg)
	require.NoError(t, err)

	envs := []string{}
	for env, v := range cfg {
		if _, ok := v.(map[string]any); ok {
			envs = append(envs, env)
		}
	}
	sort.Strings(envs)
	require.Contains(t, envs, "prod")
	checked := 0
	for _, env := range envs {
		for cmd, v := range cfg[env].(map[string]any) {
			settings, _ := v.(map[string]any)["parameters"].(map[string]any)
			raw, ok := settings["parameter_overrides"]
			if !ok {
				continue
			}
			overrides := parseOverrides(t, raw)
			_, err := tpl.ParameterValues(overrides)
			assert.NoError(t, err, "samconfig.toml [%s.%s.parameters] parameter_overrides", env, cmd)
			checked++
			if env == "prod" && cmd == "deploy" {
				origins, ok := overrides["CorsAllowedOrigins"]
				assert.True(t, ok, "prod deploy sets CorsAllowedOrigins (the default is the local console's)")
				assert.NotContains(t, origins, "localhost", "prod CORS origins")
				assert.NotContains(t, origins, "127.0.0.1", "prod CORS origins")
			}
		}
	}
	assert.GreaterOrEqual(t, checked, 3, "deploy (default, prod) and sync set overrides")
}

// parseOverrides reads parameter_overrides as the SAM CLI does: one string of
// space-separated Key=Value pairs (a value may be double-quoted), or a list.
func parseOverrides(t *testing.T, raw any) map[string]string {
	t.Helper()
	var tokens []string
	switch v := raw.(type) {
	case string:
		tokens = splitQuoted(v)
	case []any:
		for _, s := range v {
			tokens = append(tokens, s.(string))
		}
	default:
		t.Fatalf("parameter_overrides is a %T", raw)
	}
	out := map[string]string{}
	for _, tok := range tokens {
		k, v, ok := strings.Cut(tok, "=")
		require.True(t, ok, "override %q is not Key=Value", tok)
		_, dup := out[k]
		require.False(t, dup, "override %s given twice", k)
		out[k] = strings.Trim(v, `"`)
	}
	return out
}

func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// The template lets PendingTimeoutSeconds be at most what the code accepts:
// a deadline that leaves the move its time inside one Standard execution.
func TestPendingTimeoutMaxValueIsTheCodesLimit(t *testing.T) {
	tpl, err := cfn.Load("../../template.yaml")
	require.NoError(t, err)
	for _, p := range tpl.Parameters {
		if p.Name != "PendingTimeoutSeconds" {
			continue
		}
		require.NotNil(t, p.MaxValue)
		assert.Equal(t, migration.MaxPendingTimeout, time.Duration(*p.MaxValue)*time.Second)
		assert.NoError(t, migration.CheckPendingTimeout(time.Duration(*p.MaxValue)*time.Second))
		return
	}
	t.Fatal("template.yaml has no PendingTimeoutSeconds")
}
