package xmlrpc

import (
	"fmt"
	"math"
	"reflect"
	"slices"
)

// The reflection path: named types, typed slices and maps, and pointers,
// which the model layer produces less often than []any and map[string]any.

// reflectValue handles named types, typed slices and maps, and pointers.
func (e *encoder) reflectValue(rv reflect.Value, depth int) error {
	switch rv.Kind() {
	case reflect.Bool:
		e.boolean(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt32 {
			e.int(int64(u))
		} else {
			e.double(float64(u), 64)
		}
	case reflect.Float32:
		// Shortest float32 digits: float32(0.1) reaches Python as 0.1,
		// the value the Go code meant, not 0.10000000149011612.
		e.double(rv.Float(), 32)
	case reflect.Float64:
		e.double(rv.Float(), 64)
	case reflect.String:
		e.str(rv.String())
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			e.str(string(rv.Bytes()))
			return nil
		}
		return e.reflectList(rv, depth)
	case reflect.Array:
		return e.reflectList(rv, depth)
	case reflect.Map:
		return e.reflectDict(rv, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return &encodeError{err: ErrNil}
		}
		// Counted as a level so that a pointer cycle cannot recurse forever.
		if depth >= maxEncodeDepth {
			return tooDeep()
		}
		return e.value(rv.Elem().Interface(), depth+1)
	default:
		return &encodeError{err: fmt.Errorf("%w %s objects", ErrUnsupported, rv.Type())}
	}
	return nil
}

// reflectList writes a typed slice or array.
func (e *encoder) reflectList(rv reflect.Value, depth int) error {
	if depth >= maxEncodeDepth {
		return tooDeep()
	}
	e.buf = append(e.buf, "<value><array><data>\n"...)
	for i := range rv.Len() {
		if err := e.value(rv.Index(i).Interface(), depth+1); err != nil {
			return atIndex(err, i)
		}
	}
	e.buf = append(e.buf, "</data></array></value>\n"...)
	return nil
}

// reflectDict writes a map with a string-kind key type, sorted like dict.
func (e *encoder) reflectDict(rv reflect.Value, depth int) error {
	if rv.Type().Key().Kind() != reflect.String {
		// Python's Marshaller message, which Odoo puts in fault 1.
		return &encodeError{err: fmt.Errorf("%w %s: dictionary key must be string", ErrUnsupported, rv.Type())}
	}
	if depth >= maxEncodeDepth {
		return tooDeep()
	}
	keys := rv.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int {
		if a.String() < b.String() {
			return -1
		}
		if a.String() > b.String() {
			return 1
		}
		return 0
	})
	e.buf = append(e.buf, "<value><struct>\n"...)
	for _, k := range keys {
		e.memberName(k.String())
		if err := e.value(rv.MapIndex(k).Interface(), depth+1); err != nil {
			return atKey(err, k.String())
		}
		e.buf = append(e.buf, "</member>\n"...)
	}
	e.buf = append(e.buf, "</struct></value>\n"...)
	return nil
}
