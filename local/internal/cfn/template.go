// Package cfn reads the project's SAM template and resolves what the local
// stack needs from it: parameters, function environments and timeouts, the
// table's properties, the state machine definition and the HTTP API routes.
//
// Only the intrinsics the template uses are supported (Ref, Fn::GetAtt,
// Fn::Sub, in short and long form); resolving anything else is an error, but
// only when the value is actually needed (policies are never resolved).
package cfn

// Parsing: the template, its resources and parameters, and YAML helpers.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Local identity of the emulated account, as moto reports it.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
	StackName = "account-migration-local"
)

// Resource is one entry of the template's Resources.
type Resource struct {
	ID         string
	Type       string
	Properties *yaml.Node // a mapping node, or nil
	Metadata   *yaml.Node
}

// Parameter is one entry of the template's Parameters.
type Parameter struct {
	Name          string
	Type          string
	Default       *string
	AllowedValues []string
	MinValue      *float64
	MaxValue      *float64
}

// Template is a parsed template.yaml.
type Template struct {
	Path       string
	Dir        string
	Parameters []Parameter
	Resources  []*Resource // in file order
	globalsFn  *yaml.Node  // Globals.Function, or nil
}

// Load parses the template at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping", path)
	}
	root := doc.Content[0]
	t := &Template{Path: path, Dir: filepath.Dir(path)}

	if params := mapGet(root, "Parameters"); params != nil {
		for _, kv := range pairs(params) {
			p := Parameter{Name: kv.key}
			p.Type = scalar(mapGet(kv.val, "Type"))
			if d := mapGet(kv.val, "Default"); d != nil {
				s := d.Value
				p.Default = &s
			}
			if av := mapGet(kv.val, "AllowedValues"); av != nil {
				for _, v := range av.Content {
					p.AllowedValues = append(p.AllowedValues, v.Value)
				}
			}
			for name, dst := range map[string]**float64{"MinValue": &p.MinValue, "MaxValue": &p.MaxValue} {
				if n := mapGet(kv.val, name); n != nil {
					f, err := strconv.ParseFloat(n.Value, 64)
					if err != nil {
						return nil, fmt.Errorf("parameter %s: %s: %w", p.Name, name, err)
					}
					*dst = &f
				}
			}
			t.Parameters = append(t.Parameters, p)
		}
	}
	if g := mapGet(root, "Globals"); g != nil {
		t.globalsFn = mapGet(g, "Function")
	}
	res := mapGet(root, "Resources")
	if res == nil {
		return nil, fmt.Errorf("%s: no Resources", path)
	}
	for _, kv := range pairs(res) {
		t.Resources = append(t.Resources, &Resource{
			ID:         kv.key,
			Type:       scalar(mapGet(kv.val, "Type")),
			Properties: mapGet(kv.val, "Properties"),
			Metadata:   mapGet(kv.val, "Metadata"),
		})
	}
	return t, nil
}

// Resource returns the resource with that logical id, or nil.
func (t *Template) Resource(id string) *Resource {
	for _, r := range t.Resources {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// OfType lists the resources of one type, in file order.
func (t *Template) OfType(typ string) []*Resource {
	var out []*Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// ParameterValues applies overrides to the defaults and checks the result
// against each parameter's constraints. Overriding an unknown parameter is an
// error, so a typo never passes silently.
func (t *Template) ParameterValues(overrides map[string]string) (map[string]string, error) {
	known := map[string]bool{}
	out := map[string]string{}
	var errs []error
	for _, p := range t.Parameters {
		known[p.Name] = true
		v, ok := overrides[p.Name]
		if !ok {
			if p.Default == nil {
				errs = append(errs, fmt.Errorf("parameter %s has no default and no value", p.Name))
				continue
			}
			v = *p.Default
		}
		if len(p.AllowedValues) > 0 && !contains(p.AllowedValues, v) {
			errs = append(errs, fmt.Errorf("parameter %s=%q: allowed values are %v", p.Name, v, p.AllowedValues))
		}
		if p.Type == "Number" {
			f, err := strconv.ParseFloat(v, 64)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("parameter %s=%q: not a number", p.Name, v))
			case p.MinValue != nil && f < *p.MinValue:
				errs = append(errs, fmt.Errorf("parameter %s=%s: below MinValue %v", p.Name, v, *p.MinValue))
			case p.MaxValue != nil && f > *p.MaxValue:
				errs = append(errs, fmt.Errorf("parameter %s=%s: above MaxValue %v", p.Name, v, *p.MaxValue))
			}
		}
		out[p.Name] = v
	}
	for name := range overrides {
		if !known[name] {
			errs = append(errs, fmt.Errorf("parameter %s is not in the template", name))
		}
	}
	return out, errors.Join(errs...)
}

type pair struct {
	key string
	val *yaml.Node
}

func pairs(m *yaml.Node) []pair {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, pair{m.Content[i].Value, m.Content[i+1]})
	}
	return out
}

// mapGet returns the value of key in mapping m; key "" returns m itself.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	if key == "" {
		return m
	}
	for _, kv := range pairs(m) {
		if kv.key == key {
			return kv.val
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
