package cfn

// Resources: what the local stack runs and deploys, read through a Resolver.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

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
