package statemachine

import (
	"encoding/json"
	"reflect"
	"strings"
)

// samples are the JSON shapes a value of typ can marshal to, as a handler
// answers it: the zero value (every omitempty field absent, slices and maps
// empty as the handlers return them), every field filled, and the zero value
// with each omitempty field present on its own. Marshalled by encoding/json,
// exactly as aws-lambda-go does.
func samples(typ reflect.Type) []any {
	out := []any{marshal(zero(typ)), marshal(filled(typ))}
	if typ.Kind() == reflect.Struct {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if f.IsExported() && strings.Contains(f.Tag.Get("json"), ",omitempty") {
				v := zero(typ)
				v.Field(i).Set(filled(f.Type))
				out = append(out, marshal(v))
			}
		}
	}
	return out
}

// zero is typ's zero value with its slices and maps (at any depth) empty
// rather than nil: the handlers never answer a nil list (null).
func zero(typ reflect.Type) reflect.Value {
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.Slice:
		v.Set(reflect.MakeSlice(typ, 0, 0))
	case reflect.Map:
		v.Set(reflect.MakeMap(typ))
	case reflect.Struct:
		for i := 0; i < typ.NumField(); i++ {
			if typ.Field(i).IsExported() {
				v.Field(i).Set(zero(typ.Field(i).Type))
			}
		}
	}
	return v
}

// filled is a value of typ with every field set and every list one long.
func filled(typ reflect.Type) reflect.Value {
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		v.Set(filled(typ.Elem()).Addr())
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Uint8 { // json.RawMessage, []byte
			v.SetBytes([]byte(`{}`))
			break
		}
		v.Set(reflect.Append(reflect.MakeSlice(typ, 0, 1), filled(typ.Elem())))
	case reflect.Map:
		v.Set(reflect.MakeMap(typ))
		v.SetMapIndex(filled(typ.Key()), filled(typ.Elem()))
	case reflect.Struct:
		for i := 0; i < typ.NumField(); i++ {
			if typ.Field(i).IsExported() {
				v.Field(i).Set(filled(typ.Field(i).Type))
			}
		}
	case reflect.Interface:
		v.Set(reflect.ValueOf("x"))
	}
	return v
}

func marshal(v reflect.Value) any {
	b, err := json.Marshal(v.Interface())
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
