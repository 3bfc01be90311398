// Package strictjson decodes JSON as strictly as the service's inputs
// require: exactly one value, field names that match exactly, no key given
// twice at any depth, no unknown field. The HTTP edge, the workflow's input,
// the snapshot and the import all decode through it.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Go's encoding/json matches field names case-insensitively and lets the
// last of a duplicated key win ({"confirm":false,"confirm":true} is true);
// DisallowUnknownFields changes neither. check walks the raw tokens
// first, beside the target's type, and refuses a duplicated key at any depth
// and a key that matches a field only when case is ignored.
//
// Written here rather than taken from a library: encoding/json/v2 (which
// refuses both) exists only behind GOEXPERIMENT=jsonv2, an experiment the
// build does not turn on; the widely used alternatives (json-iterator,
// goccy/go-json) are drop-in replacements for v1 that, as far as their
// documentation goes, keep the last of a duplicated key like v1 does; and a
// token walk over the standard decoder is short, with no dependency to keep.

// maxJSONDepth matches encoding/json's own nesting limit.
const maxJSONDepth = 10000

// Error is a problem check found, at a JSON path ("apps[0]",
// "targets.subj-a/developer"; empty at the top).
type Error struct {
	Path    string
	Problem string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Problem
	}
	return e.Path + ": " + e.Problem
}

var (
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// check walks data as one JSON value for type t and then requires the
// end of input.
func check(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are not converted, so none can fail here
	w := strictWalker{dec: dec}
	if err := w.value(t, "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

type strictWalker struct{ dec *json.Decoder }

// value consumes one JSON value meant for t (nil: any value, checked for
// duplicated keys only).
func (w strictWalker) value(t reflect.Type, path string, depth int) error {
	if depth > maxJSONDepth {
		return &Error{path, "JSON nested too deeply"}
	}
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	t = checkedType(t)
	switch tok {
	case json.Delim('{'):
		return w.object(t, path, depth)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
		_, err = w.dec.Token() // ']'
		return err
	}
	return nil // a scalar; the decode proper checks its type
}

// object consumes an object's keys and values (its '{' is read).
func (w strictWalker) object(t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = jsonFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if seen[key] {
			return &Error{path, fmt.Sprintf("duplicate key %q", key)}
		}
		seen[key] = true
		next := elem
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				return &Error{path, unknownField(fields, key)}
			}
			next = ft
		}
		if err := w.value(next, joinPath(path, key), depth+1); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // '}'
	return err
}

func unknownField(fields map[string]reflect.Type, key string) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf("unknown field %q (field names are case-sensitive: %q)", key, name)
		}
	}
	return fmt.Sprintf("unknown field %q", key)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkedType is t without pointers, or nil where the type decodes itself
// (json.RawMessage, a json.Unmarshaler) or takes anything (an interface).
func checkedType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t == rawMessageType || t.Kind() == reflect.Interface ||
		t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	return t
}

// jsonFields maps each exact JSON name of struct t's fields (as encoding/json
// names them: the tag's name, else the Go name; embedded structs' fields
// promoted) to the field's type.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
