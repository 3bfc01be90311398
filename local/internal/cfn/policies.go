package cfn

// Policies: the IAM policies of the roles SAM creates for functions and state
// machines, resolved to plain JSON documents for the local IAM enforcement.

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// samPolicyTemplates is SAM's own policy_templates.json (from the
// aws-sam-translator package that cfn-lint carries), so that a policy
// template such as DynamoDBCrudPolicy grants locally exactly what it grants
// on AWS. TestSAMPolicyTemplatesMatchInstalled keeps the copy current.
//
//go:embed sam_policy_templates.json
var samPolicyTemplates []byte

// PolicyDocument is one resolved policy of a role.
type PolicyDocument struct {
	Name     string // the SAM policy template, managed policy resource or "inline"
	Document []byte // JSON
}

// RolePolicies resolves the Policies property of a function or state machine:
// SAM policy templates, !Ref to an AWS::IAM::ManagedPolicy of the template,
// and inline documents. An AWS managed policy by name is an error: its
// document is not known locally, and this project grants none.
func (r *Resolver) RolePolicies(res *Resource) ([]PolicyDocument, error) {
	n := mapGet(res.Properties, "Policies")
	if n == nil {
		return nil, nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []PolicyDocument
	for _, item := range items {
		doc, err := r.policy(item)
		if err != nil {
			return nil, fmt.Errorf("%s: Policies (line %d): %w", res.ID, item.Line, err)
		}
		out = append(out, doc)
	}
	return out, nil
}

func (r *Resolver) policy(n *yaml.Node) (PolicyDocument, error) {
	ref := ""
	switch {
	case n.Tag == "!Ref":
		ref = n.Value
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Ref":
		ref = n.Content[1].Value
	case n.Kind == yaml.ScalarNode:
		return PolicyDocument{}, fmt.Errorf("AWS managed policy %q: its document is not known locally; grant what the role needs inline", n.Value)
	}
	if ref != "" {
		mp := r.t.Resource(ref)
		if mp == nil || mp.Type != "AWS::IAM::ManagedPolicy" {
			return PolicyDocument{}, fmt.Errorf("!Ref %s: not an AWS::IAM::ManagedPolicy of the template", ref)
		}
		return r.document(ref, mapGet(mp.Properties, "PolicyDocument"))
	}
	if n.Kind != yaml.MappingNode {
		return PolicyDocument{}, fmt.Errorf("unexpected policy node")
	}
	if mapGet(n, "Statement") != nil {
		return r.document("inline", n)
	}
	if len(n.Content) != 2 {
		return PolicyDocument{}, fmt.Errorf("want one SAM policy template per list item")
	}
	return r.samTemplate(n.Content[0].Value, n.Content[1])
}

func (r *Resolver) document(name string, n *yaml.Node) (PolicyDocument, error) {
	v, err := r.Value(n)
	if err != nil {
		return PolicyDocument{}, fmt.Errorf("%s: %w", name, err)
	}
	b, err := json.Marshal(v)
	return PolicyDocument{Name: name, Document: b}, err
}

// samTemplate instantiates a SAM policy template: its parameters' Refs take
// the given values, then Fn::Sub resolves as anywhere in the template.
func (r *Resolver) samTemplate(name string, params *yaml.Node) (PolicyDocument, error) {
	var all struct {
		Templates map[string]struct {
			Definition json.RawMessage
			Parameters map[string]any
		}
	}
	if err := json.Unmarshal(samPolicyTemplates, &all); err != nil {
		return PolicyDocument{}, err
	}
	tpl, ok := all.Templates[name]
	if !ok {
		return PolicyDocument{}, fmt.Errorf("%s is not a SAM policy template", name)
	}
	values := map[string]string{}
	for _, kv := range pairs(params) {
		v, err := r.String(kv.val)
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("%s.%s: %w", name, kv.key, err)
		}
		values[kv.key] = v
	}
	for p := range tpl.Parameters {
		if _, ok := values[p]; !ok {
			return PolicyDocument{}, fmt.Errorf("%s: parameter %s missing", name, p)
		}
	}
	var def any
	if err := json.Unmarshal(tpl.Definition, &def); err != nil {
		return PolicyDocument{}, err
	}
	def = replaceRefs(def, values)
	b, err := json.Marshal(def)
	if err != nil {
		return PolicyDocument{}, err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		return PolicyDocument{}, err
	}
	return r.document(name, node.Content[0])
}

// replaceRefs replaces {"Ref": P} by values[P] wherever P is a parameter.
func replaceRefs(v any, values map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			if s, ok := values[ref]; ok {
				return s
			}
		}
		for k, c := range v {
			v[k] = replaceRefs(c, values)
		}
	case []any:
		for i, c := range v {
			v[i] = replaceRefs(c, values)
		}
	}
	return v
}
