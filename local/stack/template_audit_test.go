package stack

import (
	"os"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The audit trail is append-only by permission and every
// table is kept by policy. Read from template.yaml itself: no IAM statement
// anywhere in it lets anything change or delete an audit record (no
// UpdateItem, DeleteItem, BatchWriteItem, no wildcard, no SAM CRUD/write
// policy template on the audit table); every function may put and read
// there; both tables are retained on stack deletion and replacement.
func TestTemplateAuditAppendOnlyAndTablesRetained(t *testing.T) {
	b, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &doc))
	root := doc.Content[0]
	res := get(root, "Resources")
	require.NotNil(t, res)

	tables := 0
	for i := 0; i < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, res.Content[i+1]
		if scalarOf(get(r, "Type")) != "AWS::DynamoDB::Table" {
			continue
		}
		tables++
		assert.Equal(t, "Retain", scalarOf(get(r, "DeletionPolicy")), "%s DeletionPolicy", id)
		assert.Equal(t, "Retain", scalarOf(get(r, "UpdateReplacePolicy")), "%s UpdateReplacePolicy", id)
	}
	require.NotNil(t, get(res, auditTableID), "template has an %s", auditTableID)
	assert.Equal(t, 2, tables, "the data table and the audit table")

	canPut := false
	// Two may reduce an audit record's personal fields, nothing else: the
	// hourly retention job and the erasure's ops policy (docs/PRIVACY.md;
	// TestTemplatePersonalData checks what each may do).
	reducers := map[string]bool{"RemindersFunction": true, "PersonalDataErasePolicy": true}
	for i := 0; i+1 < len(res.Content); i += 2 {
		if reducers[res.Content[i].Value] {
			continue
		}
		walkAudit(t, res.Content[i+1], &canPut)
	}
	assert.True(t, canPut, "some statement lets the functions add audit records")

	// Which roles may append, evaluated on the resolved policies:
	// TestTemplateRolesAsCut.
}

func walkAudit(t *testing.T, root *yaml.Node, canPut *bool) {
	walk(root, func(n *yaml.Node) {
		if st := get(n, "Statement"); st != nil {
			for _, s := range items(st) {
				if scalarOf(get(s, "Effect")) != "Allow" || !onAudit(get(s, "Resource")) {
					continue
				}
				for _, a := range scalars(get(s, "Action")) {
					for _, bad := range []string{"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:DeleteTable"} {
						ok, _ := path.Match(strings.ToLower(a), strings.ToLower(bad))
						assert.False(t, ok, "action %q allows %s on the audit table", a, bad)
					}
					*canPut = *canPut || a == "dynamodb:PutItem"
				}
			}
		}
		// SAM policy templates name a table: none but reading may name the audit table.
		for i := 0; n.Kind == yaml.MappingNode && i < len(n.Content); i += 2 {
			name, v := n.Content[i].Value, n.Content[i+1]
			if strings.HasPrefix(name, "DynamoDB") && strings.HasSuffix(name, "Policy") && onAudit(get(v, "TableName")) {
				assert.Equal(t, "DynamoDBReadPolicy", name, "policy template on the audit table")
			}
		}
	})
}

// onAudit reports a Resource that names the audit table or everything.
func onAudit(n *yaml.Node) bool {
	hit := false
	walk(n, func(s *yaml.Node) {
		if s.Kind == yaml.ScalarNode && (s.Value == "*" || strings.Contains(s.Value, auditTableID)) {
			hit = true
		}
	})
	return hit
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalarOf(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

// items is a sequence's entries, or the node itself when it is not one.
func items(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	}
	return []*yaml.Node{n}
}

func scalars(n *yaml.Node) []string {
	var out []string
	for _, s := range items(n) {
		out = append(out, s.Value)
	}
	return out
}

func walk(n *yaml.Node, f func(*yaml.Node)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range n.Content {
		walk(c, f)
	}
}
