package rpc

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting on the way out; real results are shallow, so
// reaching it means a cyclic value, which becomes an error, not a crash.
const maxJSONDepth = 256

// odooDatetime is how Odoo's json_default writes a datetime (UTC).
const odooDatetime = "2006-01-02 15:04:05"

// ranger is an ordered dict, such as *models.Dict.
type ranger interface {
	Range(fn func(key string, v any) bool)
}

// appendJSON appends v as JSON the way Odoo's response serializer would
// write the equivalent Python value:
//   - nil slices and maps are [] and {}: Python has no "nil list", and a
//     client reading null where it expects a list breaks;
//   - ordered dicts keep their order, Go maps are written with sorted keys;
//   - floats are written as Python's repr does (20.0, not 20), so a
//     Python client gets a float back for a float field;
//   - time.Time is "YYYY-MM-DD HH:MM:SS" UTC and []byte is text
//     (json_default);
//   - strings keep encoding/json's HTML-safe escaping (\u003c): still valid
//     JSON, and safe should a response ever be rendered in a page.
//
// Other types go through encoding/json.
func appendJSON(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("rpc: result nested deeper than %d levels", maxJSONDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		return appendFloat(b, x)
	case string:
		return appendString(b, x), nil
	case []byte:
		return appendString(b, string(x)), nil
	case time.Time:
		return appendString(b, x.UTC().Format(odooDatetime)), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []int64:
		b = append(b, '[')
		for i, n := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, n, 10)
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return appendObject(b, depth, func(yield func(string, any) bool) {
			for _, k := range keys {
				if !yield(k, x[k]) {
					return
				}
			}
		})
	case ranger:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return append(b, "null"...), nil
		}
		return appendObject(b, depth, x.Range)
	case json.Marshaler:
		out, err := json.Marshal(x)
		return append(b, out...), err
	}
	return appendReflect(b, v, depth)
}

// appendObject writes the pairs range yields as a JSON object.
func appendObject(b []byte, depth int, each func(yield func(string, any) bool)) ([]byte, error) {
	b = append(b, '{')
	first := true
	var err error
	each(func(k string, v any) bool {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		b, err = appendJSON(b, v, depth+1)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendReflect handles the other slices and maps (e.g. []*models.Dict,
// []string) element by element, so their elements get the rules above.
func appendReflect(b []byte, v any, depth int) ([]byte, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return append(b, "null"...), nil
		}
		return appendJSON(b, rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		b = append(b, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, rv.Index(i).Interface(), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break // encoding/json writes int keys as strings, as Python does
		}
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		return appendObject(b, depth, func(yield func(string, any) bool) {
			for _, k := range keys {
				if !yield(k, rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface()) {
					return
				}
			}
		})
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("rpc: cannot encode %T as JSON: %w", v, err)
	}
	return append(b, out...), nil
}

// appendString writes s with encoding/json's escaping: quotes, backslash
// and control characters escaped, <, > and & as \u003c... (HTML-safe),
// U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD. Results carry
// hundreds of strings, so this avoids json.Marshal's allocation per string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat writes f as Python's float repr: shortest digits, a ".0" on
// integral values, exponent form below 1e-4 and from 1e16. JSON has no NaN
// or infinity, so those are an error.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("rpc: cannot encode float %v as JSON", f)
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return strconv.AppendFloat(b, f, 'e', -1, 64), nil
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return append(b, s...), nil
}
