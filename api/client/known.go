package client

import (
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// The published spec keeps generated clients working when a release adds an
// error code or a state: such a value is open, `anyOf: [{type: string, enum:
// [known values]}, {type: string}]`. Generators turn that into "one of these,
// or any string" (openapi-typescript: `"A" | "B" | string`; openapi-python-
// client: the enum, else the plain string). The service itself must answer
// only known values, so the tests validate against the closed view:
// closeOpenEnums keeps the enum branch alone.

// KnownValues are the values a string schema lists: its enum, or the enum of
// its open form's first branch.
func KnownValues(s *openapi3.Schema) []any {
	if s == nil {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum
	}
	if known, ok := openEnum(s); ok {
		return known.Enum
	}
	return nil
}

// openEnum reports s as an open enum and returns its enum branch.
func openEnum(s *openapi3.Schema) (*openapi3.Schema, bool) {
	if len(s.AnyOf) != 2 || s.AnyOf[0].Value == nil || s.AnyOf[1].Value == nil {
		return nil, false
	}
	known, rest := s.AnyOf[0].Value, s.AnyOf[1].Value
	isString := func(x *openapi3.Schema) bool { return x.Type != nil && x.Type.Is(openapi3.TypeString) }
	if len(known.Enum) == 0 || !isString(known) || !isString(rest) || len(rest.Enum) > 0 || rest.Format != "" || rest.Pattern != "" {
		return nil, false
	}
	return known, true
}

// closeOpenEnums rewrites every open enum of doc into its closed form, so that
// a value outside the known ones fails validation.
func closeOpenEnums(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(r *openapi3.SchemaRef)
	walk = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		s := r.Value
		seen[s] = true
		if known, ok := openEnum(s); ok {
			s.Type, s.Enum, s.AnyOf = known.Type, slices.Clone(known.Enum), nil
			return
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.Not)
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema)
		}
		for _, list := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range list {
				walk(x)
			}
		}
	}
	content := func(c openapi3.Content) {
		for _, mt := range c {
			walk(mt.Schema)
		}
	}
	if doc.Components != nil {
		for _, s := range doc.Components.Schemas {
			walk(s)
		}
		for _, h := range doc.Components.Headers {
			if h.Value != nil {
				walk(h.Value.Schema)
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil {
					walk(p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			for _, res := range op.Responses.Map() {
				if res.Value == nil {
					continue
				}
				content(res.Value.Content)
				for _, h := range res.Value.Headers {
					if h.Value != nil {
						walk(h.Value.Schema)
					}
				}
			}
		}
	}
}
