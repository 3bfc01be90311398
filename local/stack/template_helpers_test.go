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

// The tables' ARNs as the template resolves them with the default parameters.
const (
	dataTableArn  = "arn:aws:dynamodb:us-east-1:123456789012:table/MigrationTable"
	auditTableArn = "arn:aws:dynamodb:us-east-1:123456789012:table/AuditTable"
)

// roleAllows answers whether a role of template.yaml (by logical id, as
// templateRoles names them) may do action on resource, as the local IAM
// decides; a role the template does not have fails t.
func roleAllows(t *testing.T) func(role, action, resource string) bool {
	t.Helper()
	byName := templateRoles(t)
	return func(role, action, resource string) bool {
		r, ok := byName[role]
		require.True(t, ok, "role %s", role)
		return iam.Evaluate(r.Policies, action, resource) == iam.Allowed
	}
}
