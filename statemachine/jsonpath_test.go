package statemachine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A small evaluator of the JSONPath subset Step Functions' ASL uses in this
// project ($, $.a.b, $.a[0], $$.Context.path) and of the intrinsic functions
// the definitions call. It exists to ask one question of every path the ASL
// reads: does it find something in this document? Written by hand because no
// well-kept Go JSONPath library keeps AWS's "a path that finds nothing is an
// error" rule: they answer an empty result instead. Anything outside the subset
// is an error, so an unsupported path can never pass unchecked.

// missing is the error of a path that finds nothing.
type missing struct{ path, at string }

func (m *missing) Error() string { return fmt.Sprintf("path %s finds nothing (no %q)", m.path, m.at) }

var segment = regexp.MustCompile(`^(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\])`)

// lookup evaluates a JSONPath against doc ($) or ctx ($$).
func lookup(path string, doc, ctx any) (any, error) {
	cur, rest := doc, ""
	switch {
	case strings.HasPrefix(path, "$$"):
		cur, rest = ctx, path[2:]
	case strings.HasPrefix(path, "$"):
		rest = path[1:]
	default:
		return nil, fmt.Errorf("path %q does not start with $", path)
	}
	for rest != "" {
		m := segment.FindStringSubmatch(rest)
		if m == nil {
			return nil, fmt.Errorf("path %q: unsupported syntax at %q (extend the test's evaluator)", path, rest)
		}
		rest = rest[len(m[0]):]
		if m[1] != "" {
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, &missing{path, m[1]}
			}
			if cur, ok = obj[m[1]]; !ok {
				return nil, &missing{path, m[1]}
			}
			continue
		}
		i, _ := strconv.Atoi(m[2])
		arr, ok := cur.([]any)
		if !ok || i >= len(arr) {
			return nil, &missing{path, m[0]}
		}
		cur = arr[i]
	}
	return cur, nil
}

// template evaluates a payload template (Parameters, ItemSelector,
// ResultSelector): keys ending in ".$" take a path or an intrinsic function.
func template(v any, doc, ctx any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range t {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, isStr := val.(string)
				if !isStr {
					return nil, fmt.Errorf("%s: a .$ field needs a string", k)
				}
				r, err := expression(s, doc, ctx)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				out[name] = r
				continue
			}
			r, err := template(val, doc, ctx)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			r, err := template(val, doc, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// expression is a path or an intrinsic function call.
func expression(s string, doc, ctx any) (any, error) {
	if strings.HasPrefix(s, "$") {
		return lookup(s, doc, ctx)
	}
	name, argText, ok := strings.Cut(s, "(")
	if !ok || !strings.HasSuffix(argText, ")") {
		return nil, fmt.Errorf("%q is neither a path nor an intrinsic function", s)
	}
	var args []any
	for _, a := range splitArgs(strings.TrimSuffix(argText, ")")) {
		a = strings.TrimSpace(a)
		switch {
		case strings.HasPrefix(a, "'"):
			args = append(args, strings.Trim(a, "'"))
		case strings.HasPrefix(a, "$") || strings.HasPrefix(a, "States."):
			v, err := expression(a, doc, ctx)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		default:
			var v any
			if err := json.Unmarshal([]byte(a), &v); err != nil {
				return nil, fmt.Errorf("intrinsic argument %q: %w", a, err)
			}
			args = append(args, v)
		}
	}
	switch name {
	case "States.Format", "States.Hash":
		return fmt.Sprint(args...), nil // a string; its content does not matter here
	case "States.StringToJson":
		s, _ := args[0].(string)
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("%s: %q is not JSON", name, s)
		}
		return v, nil
	case "States.JsonMerge":
		a, aok := args[0].(map[string]any)
		b, bok := args[1].(map[string]any)
		if !aok || !bok {
			return nil, fmt.Errorf("%s needs two objects", name)
		}
		out := map[string]any{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("intrinsic %s is not known to the test (extend it)", name)
}

// splitArgs splits an intrinsic's arguments at the top-level commas.
func splitArgs(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
		case quoted:
		case r == '(':
			depth++
		case r == ')':
			depth--
		case r == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// put writes val at a ResultPath in doc, creating objects on the way, and
// returns the new document (ResultPath "$" replaces it).
func put(doc any, path string, val any) (any, error) {
	if path == "$" {
		return val, nil
	}
	if !strings.HasPrefix(path, "$.") {
		return nil, fmt.Errorf("ResultPath %q is not supported by the test", path)
	}
	root, ok := clone(doc).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ResultPath %q on a document that is not an object", path)
	}
	cur := root
	parts := strings.Split(path[2:], ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = val
	return root, nil
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
