// Package cfn reads the project's SAM template and resolves what the local
// stack needs from it: parameters, function environments and timeouts, the
// table's properties, the state machine definition and the HTTP API routes.
//
// Only the intrinsics the template uses are supported (Ref, Fn::GetAtt,
// Fn::Sub, in short and long form); resolving anything else is an error, but
// only when the value is actually needed (policies are never resolved).
package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

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

// Resolver turns template values into plain Go values (map[string]any, []any,
// string, int64, float64, bool, nil) with intrinsics replaced by local values.
type Resolver struct {
	t      *Template
	params map[string]string
}

// NewResolver resolves against t with these parameter values.
func NewResolver(t *Template, params map[string]string) *Resolver {
	return &Resolver{t: t, params: params}
}

// FunctionArn is the local ARN of a function: its name is its logical id.
func FunctionArn(id string) string {
	return "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + id
}

// StateMachineArn is the ARN moto gives a state machine named name.
func StateMachineArn(name string) string {
	return "arn:aws:states:" + Region + ":" + AccountID + ":stateMachine:" + name
}

// TableName is the local name of a DynamoDB table resource: its TableName
// property if set, else its logical id.
func (r *Resolver) TableName(res *Resource) (string, error) {
	if n := mapGet(res.Properties, "TableName"); n != nil {
		v, err := r.String(n)
		if err != nil {
			return "", fmt.Errorf("%s.TableName: %w", res.ID, err)
		}
		return v, nil
	}
	return res.ID, nil
}

// StateMachineName is the local name of a state machine resource.
func (r *Resolver) StateMachineName(res *Resource) (string, error) {
	if n := mapGet(res.Properties, "Name"); n != nil {
		return r.String(n)
	}
	return res.ID, nil
}

func (r *Resolver) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return Region, nil
	case "AWS::AccountId":
		return AccountID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return StackName, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	res := r.t.Resource(name)
	if res == nil {
		return "", fmt.Errorf("!Ref %s: no such parameter or resource", name)
	}
	switch res.Type {
	case "AWS::DynamoDB::Table":
		return r.TableName(res)
	case "AWS::Serverless::Function":
		return res.ID, nil
	case "AWS::Serverless::StateMachine":
		n, err := r.StateMachineName(res)
		return StateMachineArn(n), err
	case "AWS::Serverless::HttpApi":
		return "local", nil
	}
	return "", fmt.Errorf("!Ref %s: resource type %s has no local value", name, res.Type)
}

func (r *Resolver) getAtt(id, attr string) (string, error) {
	res := r.t.Resource(id)
	if res == nil {
		return "", fmt.Errorf("!GetAtt %s.%s: no such resource", id, attr)
	}
	switch res.Type + "." + attr {
	case "AWS::Serverless::Function.Arn":
		return FunctionArn(res.ID), nil
	case "AWS::Serverless::StateMachine.Arn":
		return r.ref(id)
	case "AWS::Serverless::StateMachine.Name":
		return r.StateMachineName(res)
	case "AWS::DynamoDB::Table.Arn":
		n, err := r.TableName(res)
		return "arn:aws:dynamodb:" + Region + ":" + AccountID + ":table/" + n, err
	}
	return "", fmt.Errorf("!GetAtt %s.%s: no local value for %s", id, attr, res.Type)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// Sub expands ${Name} the way Fn::Sub does: a name is a variable of vars, a
// parameter, a resource (Ref) or Resource.Attr (GetAtt); ${!x} is literal ${x}.
func (r *Resolver) sub(s string, vars map[string]string) (string, error) {
	var errs []error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return v
		}
		var v string
		var err error
		if id, attr, ok := strings.Cut(name, "."); ok {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return v
	})
	return out, errors.Join(errs...)
}

// Value resolves a node to a plain Go value.
func (r *Resolver) Value(n *yaml.Node) (any, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode {
		return r.Value(n.Alias)
	}
	switch n.Tag {
	case "!Ref":
		return r.ref(n.Value)
	case "!GetAtt":
		return r.getAttNode(n)
	case "!Sub":
		return r.subNode(n)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: intrinsic %s is not supported locally", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int":
			if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return i, nil
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f, nil
			}
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, nil
			}
		case "!!null":
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := r.Value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		if len(n.Content) == 2 {
			switch n.Content[0].Value {
			case "Ref":
				return r.ref(n.Content[1].Value)
			case "Fn::GetAtt":
				return r.getAttNode(n.Content[1])
			case "Fn::Sub":
				return r.subNode(n.Content[1])
			}
			if strings.HasPrefix(n.Content[0].Value, "Fn::") {
				return nil, fmt.Errorf("line %d: intrinsic %s is not supported locally", n.Line, n.Content[0].Value)
			}
		}
		out := map[string]any{}
		for _, kv := range pairs(n) {
			v, err := r.Value(kv.val)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", kv.key, err)
			}
			out[kv.key] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// String resolves a node that must be a scalar; numbers and booleans are
// rendered as CloudFormation renders them in strings.
func (r *Resolver) String(n *yaml.Node) (string, error) {
	v, err := r.Value(n)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int64, float64, bool:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("line %d: want a scalar value", n.Line)
}

func (r *Resolver) getAttNode(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		id, attr, ok := strings.Cut(n.Value, ".")
		if !ok {
			return "", fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, n.Value)
		}
		return r.getAtt(id, attr)
	case yaml.SequenceNode:
		if len(n.Content) == 2 {
			return r.getAtt(n.Content[0].Value, n.Content[1].Value)
		}
	}
	return "", fmt.Errorf("line %d: malformed GetAtt", n.Line)
}

func (r *Resolver) subNode(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return r.sub(n.Value, nil)
	case yaml.SequenceNode:
		if len(n.Content) == 2 {
			vars := map[string]string{}
			for _, kv := range pairs(n.Content[1]) {
				v, err := r.String(kv.val)
				if err != nil {
					return "", err
				}
				vars[kv.key] = v
			}
			return r.sub(n.Content[0].Value, vars)
		}
	}
	return "", fmt.Errorf("line %d: malformed Sub", n.Line)
}

// Function is what the local stack needs to run one AWS::Serverless::Function.
type Function struct {
	ID         string
	Env        map[string]string // Globals merged with the function's own
	TimeoutSec int
	MemoryMB   int
}

// Function resolves a function resource, applying Globals.Function.
func (r *Resolver) Function(res *Resource) (Function, error) {
	f := Function{ID: res.ID, Env: map[string]string{}, TimeoutSec: 3, MemoryMB: 128} // SAM defaults
	for _, src := range []*yaml.Node{r.t.globalsFn, res.Properties} {
		if src == nil {
			continue
		}
		if vars := mapGet(mapGet(mapGet(src, "Environment"), "Variables"), ""); vars != nil {
			for _, kv := range pairs(vars) {
				v, err := r.String(kv.val)
				if err != nil {
					return f, fmt.Errorf("%s: environment %s: %w", res.ID, kv.key, err)
				}
				f.Env[kv.key] = v
			}
		}
		for name, dst := range map[string]*int{"Timeout": &f.TimeoutSec, "MemorySize": &f.MemoryMB} {
			if n := mapGet(src, name); n != nil {
				s, err := r.String(n)
				if err == nil {
					*dst, err = strconv.Atoi(s)
				}
				if err != nil {
					return f, fmt.Errorf("%s: %s: %w", res.ID, name, err)
				}
			}
		}
	}
	return f, nil
}

// Route is one HttpApi event of a function.
type Route struct {
	Method   string // upper case; ANY matches every method
	Path     string // /v1/migrations/{migrationId}; {proxy+} is greedy
	Function string // logical id
	Auth     bool   // a JWT is required
	Scopes   []string
}

// RouteKey is API Gateway's "METHOD /path".
func (rt Route) RouteKey() string { return rt.Method + " " + rt.Path }

// Routes collects the HttpApi events of every function. A route needs a
// token unless it says Authorizer: NONE, when its API has a default
// authorizer (the template's case) or the event names one.
func (r *Resolver) Routes() ([]Route, error) {
	defaultAuth := map[string]bool{} // HttpApi logical id -> has DefaultAuthorizer
	for _, api := range r.t.OfType("AWS::Serverless::HttpApi") {
		defaultAuth[api.ID] = mapGet(mapGet(api.Properties, "Auth"), "DefaultAuthorizer") != nil
	}
	var out []Route
	for _, fn := range r.t.OfType("AWS::Serverless::Function") {
		events := mapGet(fn.Properties, "Events")
		if events == nil {
			continue
		}
		for _, kv := range pairs(events) {
			if scalar(mapGet(kv.val, "Type")) != "HttpApi" {
				continue
			}
			props := mapGet(kv.val, "Properties")
			rt := Route{Function: fn.ID, Method: "ANY", Path: "$default"}
			if m := mapGet(props, "Method"); m != nil {
				rt.Method = strings.ToUpper(m.Value)
			}
			if p := mapGet(props, "Path"); p != nil {
				rt.Path = p.Value
			}
			apiID := "ServerlessHttpApi"
			if a := mapGet(props, "ApiId"); a != nil {
				if a.Tag == "!Ref" {
					apiID = a.Value
				} else if ref := mapGet(a, "Ref"); ref != nil {
					apiID = ref.Value
				}
			}
			rt.Auth = defaultAuth[apiID]
			if auth := mapGet(props, "Auth"); auth != nil {
				if a := mapGet(auth, "Authorizer"); a != nil {
					rt.Auth = a.Value != "NONE"
				}
				if sc := mapGet(auth, "AuthorizationScopes"); sc != nil {
					for _, s := range sc.Content {
						rt.Scopes = append(rt.Scopes, s.Value)
					}
				}
			}
			if len(rt.Scopes) > 0 {
				rt.Auth = true
			}
			out = append(out, rt)
		}
	}
	return out, nil
}

// Definition reads a state machine's definition (DefinitionUri file or inline
// Definition) and applies its DefinitionSubstitutions. A ${Name} without a
// substitution is an error, as it is for CloudFormation.
func (r *Resolver) Definition(res *Resource) (string, error) {
	subs := map[string]string{}
	if n := mapGet(res.Properties, "DefinitionSubstitutions"); n != nil {
		for _, kv := range pairs(n) {
			v, err := r.String(kv.val)
			if err != nil {
				return "", fmt.Errorf("%s: DefinitionSubstitutions.%s: %w", res.ID, kv.key, err)
			}
			subs[kv.key] = v
		}
	}
	var def string
	if uri := mapGet(res.Properties, "DefinitionUri"); uri != nil {
		if uri.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("%s: only a local DefinitionUri file is supported", res.ID)
		}
		path := uri.Value
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.t.Dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: DefinitionUri: %w", res.ID, err)
		}
		def = string(b)
	} else if d := mapGet(res.Properties, "Definition"); d != nil {
		// Inline definitions are YAML; substitutions apply inside strings.
		v, err := r.Value(d)
		if err != nil {
			return "", fmt.Errorf("%s: Definition: %w", res.ID, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		def = string(b)
	} else {
		return "", fmt.Errorf("%s: neither DefinitionUri nor Definition", res.ID)
	}

	var missing []string
	def = subVar.ReplaceAllStringFunc(def, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := subs[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("%s: definition uses ${...} without a DefinitionSubstitutions entry: %s", res.ID, strings.Join(dedupe(missing), ", "))
	}
	return def, nil
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
