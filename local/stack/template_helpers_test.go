package stack

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/internal/cfn"
	"github.com/devplatform/account-migration/local/internal/iam"
)

// templateRoles is every role of template.yaml by name (a function's or a
// machine's logical id), resolved with the default parameters exactly as the
// local stack enforces them.
func templateRoles(t *testing.T) map[string]iam.Role {
	t.Helper()
	tpl, err := cfn.Load("../../template.yaml")
	require.NoError(t, err)
	params, err := tpl.ParameterValues(nil)
	require.NoError(t, err)
	rs, err := roles(tpl, cfn.NewResolver(tpl, params))
	require.NoError(t, err)
	byName := make(map[string]iam.Role, len(rs))
	for _, r := range rs {
		byName[r.Name] = r
	}
	return byName
}
