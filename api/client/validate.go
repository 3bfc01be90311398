package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/devplatform/account-migration/api"
)

// Validator is an http.RoundTripper that checks every answer against
// api/openapi.yaml: the route and method must be in the spec, the status
// declared for the operation, the body exactly its schema (unknown fields
// refused). Requests are not checked: tests send bad ones on purpose.
// Report is called with each mismatch (tests pass t.Errorf).
type Validator struct {
	Next   http.RoundTripper // nil = http.DefaultTransport
	Report func(err error)
	doc    *openapi3.T
	paths  []specPath
}

type specPath struct {
	template string
	segs     []string
	item     *openapi3.PathItem
}

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

// Spec returns the parsed and validated api/openapi.yaml; every example in it
// must validate against its schema.
func Spec() (*openapi3.T, error) {
	specOnce.Do(func() { specDoc, specErr = LoadSpec(api.OpenAPI, true) })
	return specDoc, specErr
}

// LoadSpec parses and validates a spec; checkExamples=false lets examples
// that are not captured yet pass (the capture test's -update run). The
// document it returns is the closed view: its open enums accept only their
// known values (known.go), so every answer is checked against those.
func LoadSpec(data []byte, checkExamples bool) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, err
	}
	var opts []openapi3.ValidationOption
	if !checkExamples {
		opts = append(opts, openapi3.DisableExamplesValidation())
	}
	if err := doc.Validate(context.Background(), opts...); err != nil {
		return doc, err
	}
	closeOpenEnums(doc)
	return doc, doc.Validate(context.Background(), opts...)
}

// NewValidator returns a Validator of api/openapi.yaml over next reporting
// to report.
func NewValidator(next http.RoundTripper, report func(error)) (*Validator, error) {
	doc, err := Spec()
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: %w", err)
	}
	return NewValidatorOf(doc, next, report), nil
}

// NewValidatorOf returns a Validator of doc.
func NewValidatorOf(doc *openapi3.T, next http.RoundTripper, report func(error)) *Validator {
	v := &Validator{Next: next, Report: report, doc: doc}
	for tmpl, item := range doc.Paths.Map() {
		v.paths = append(v.paths, specPath{template: tmpl, segs: strings.Split(strings.Trim(tmpl, "/"), "/"), item: item})
	}
	// Literal segments before parameters, as API Gateway routes.
	sort.Slice(v.paths, func(i, j int) bool {
		return strings.Count(v.paths[i].template, "{") < strings.Count(v.paths[j].template, "{")
	})
	return v
}

// ValidatingHTTPClient is an http.Client whose every answer is validated.
func ValidatingHTTPClient(report func(error)) (*http.Client, error) {
	v, err := NewValidator(nil, report)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: v}, nil
}

func (v *Validator) RoundTrip(req *http.Request) (*http.Response, error) {
	next := v.Next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if verr := v.Check(req, res.StatusCode, res.Header, body); verr != nil && v.Report != nil {
		v.Report(fmt.Errorf("answer not as api/openapi.yaml says: %s %s → %d: %w\nbody: %s", req.Method, req.URL.RequestURI(), res.StatusCode, verr, truncate(body, 500)))
	}
	return res, nil
}

// Check validates one answer to req against the spec.
func (v *Validator) Check(req *http.Request, status int, header http.Header, body []byte) error {
	if status == http.StatusRequestHeaderFieldsTooLarge {
		return nil // Go's HTTP server refuses the request before the API sees it
	}
	path, params := v.find(req.URL.EscapedPath())
	var op *openapi3.Operation
	if path != nil {
		op = path.item.GetOperation(req.Method)
	}
	if op == nil {
		// No such route: the only answer is the router's 404.
		if status != http.StatusNotFound {
			return fmt.Errorf("route %s %s is not in the spec", req.Method, req.URL.Path)
		}
		return v.checkSchema("Error404", body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params,
			Route: &routers.Route{Spec: v.doc, Path: path.template, PathItem: path.item, Method: req.Method, Operation: op},
		},
		Status: status, Header: header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

func (v *Validator) checkSchema(name string, body []byte) error {
	s := v.doc.Components.Schemas[name]
	val, err := decodeJSON(body)
	if err != nil {
		return err
	}
	return s.Value.VisitJSON(val, openapi3.EnableJSONSchema2020())
}

// find matches an escaped path as the API's routers do: one segment per
// parameter, decoded.
func (v *Validator) find(escaped string) (*specPath, map[string]string) {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	for i := range v.paths {
		p := &v.paths[i]
		if len(p.segs) != len(parts) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, seg := range p.segs {
			part, err := url.PathUnescape(parts[j])
			if err != nil || part == "" && seg != "" {
				ok = false
				break
			}
			if strings.HasPrefix(seg, "{") {
				params[seg[1:len(seg)-1]] = part
			} else if seg != part {
				ok = false
				break
			}
		}
		if ok {
			return p, params
		}
	}
	return nil, nil
}
