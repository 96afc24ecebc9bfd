// Package py holds the one set of rules by which the engine and the RPC
// edge read decoded RPC values (nil, bool, int64, float64, string, []any, map[string]any,
// and the typed slices Go callers pass) the way Odoo's Python code reads
// them: which values mean "not given", Python's truth, how a value
// compares with an int, and how it prints in str() and in an error
// message (repr).
package py

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// IsFalse reports whether v is None or False: what Odoo clients send for
// an argument they do not give (limit=False, fields=None, context=False).
// Other falsy values (0, "", []) are values; Truthy is Python's truth.
func IsFalse(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	}
	return false
}

// Truthy is Python's bool(v).
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	case map[string]any:
		return len(x) > 0
	}
	if l, ok := List(v); ok {
		return len(l) > 0
	}
	return true
}

// Int reads the integer shapes that arrive from codecs: int64 from
// XML-RPC, float64 from JSON when integral (and within float64's exact
// range). Booleans and strings are not ints here.
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return 0, false
}

// IntLike reads v as Python compares it with an int: booleans are 1 and
// 0 (True == 1), other values as Int.
func IntLike(v any) (int64, bool) {
	if b, ok := v.(bool); ok {
		if b {
			return 1, true
		}
		return 0, true
	}
	return Int(v)
}

// Float reads a number: float64, or an integer.
func Float(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// List returns the items of a list value: []any as codecs decode it, or
// the typed slices of ids and names Go callers pass.
func List(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []int64:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = n
		}
		return out, true
	case []int:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = int64(n)
		}
		return out, true
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// Str is Python's str(v) of a scalar (None is "None", True "True", an
// integral float from JSON prints as the int it was sent as); ok is false
// for lists, dicts, and text that is not valid UTF-8.
func Str(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "None", true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	case string:
		return x, utf8.ValidString(x)
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		// JSON numbers arrive as float64; integral ones were ints.
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10), true
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05"), true
	}
	return "", false
}

// Tuple is a list that prints as a Python tuple: what Odoo makes of a
// domain leaf (normalize_domain turns each into a tuple) before quoting it
// in an error message.
type Tuple []any

// Repr is Python's repr(v), for error messages that quote a value: None,
// True, False, 'text' (in Python's quotes and escapes), numbers, [a, b]
// for lists, (a, b) and (a,) for a Tuple, and {...} for dicts (never
// their contents: a message must stay short).
func Repr(v any) string {
	if t, ok := v.(Tuple); ok {
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = Repr(x)
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	if l, ok := List(v); ok {
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = Repr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	switch x := v.(type) {
	case string:
		return reprString(x)
	case map[string]any:
		return "{...}"
	case float64:
		// An integral float64 is how a JSON integer arrives: printed as
		// the int the client sent, as Str does.
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
		return FloatRepr(x)
	}
	if s, ok := Str(v); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Text is Python's str(v): Str for scalars, Repr for lists and dicts.
func Text(v any) string {
	if s, ok := Str(v); ok {
		return s
	}
	return Repr(v)
}

// reprString quotes s as Python does: single quotes, or double ones when
// s holds a single quote and no double quote; backslash escapes for the
// quote, the backslash, control characters and bytes that are not UTF-8.
func reprString(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte(quote)
	return b.String()
}

// TypeName is the name of v's Python type, for TypeError messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case map[string]any:
		return "dict"
	case Tuple:
		return "tuple"
	}
	if _, ok := List(v); ok {
		return "list"
	}
	return fmt.Sprintf("%T", v)
}

// ReprShort is Repr cut to a length fit for an error message.
func ReprShort(v any) string {
	s := Repr(v)
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "") + "..."
	}
	return s
}

// FloatRepr is Python's repr of a float: the shortest digits that round
// trip, a ".0" on integral values, exponents below 1e-4 and from 1e16 on
// (with at least two exponent digits), and nan, inf, -inf.
func FloatRepr(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	if a := math.Abs(x); a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(x, 'e', -1, 64) // 1e+16, 1.5e-05
		mant, exp, _ := strings.Cut(s, "e")
		sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
		if len(digits) < 2 {
			digits = strings.Repeat("0", 2-len(digits)) + digits
		}
		return mant + "e" + sign + digits
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
