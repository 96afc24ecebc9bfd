package models

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// value converts a comparison value for f's column. Char, text and
// selection values are compared as given (Odoo does not validate them, and
// a search for a longer string than the column's size is no error); other
// types go through toDB so datetimes and booleans bind right on both
// databases.
func (c *compiler) value(f *Field, v any, lf *leaf) (any, error) {
	switch f.Type {
	case Char, Text, Selection:
		if isFalse(v) {
			return nil, nil
		}
		if _, isBool := v.(bool); !isBool {
			if text, ok := likeText(v); ok {
				return text, nil
			}
		}
		return nil, ValueErrorf("Invalid value %s in leaf %s: want a string of valid UTF-8", reprShort(v), reprShort(lf.raw))
	}
	if _, isList := asList(v); isList {
		return nil, invalidLeaf(lf)
	}
	if _, isMap := v.(map[string]any); isMap {
		return nil, invalidLeaf(lf)
	}
	p, err := f.toDB(c.d, v)
	if err != nil {
		if KindOf(err) == KindInternal {
			return nil, err
		}
		return nil, ValueErrorf("Invalid value %s in leaf %s: %s", reprShort(v), reprShort(lf.raw), MessageOf(err))
	}
	return p, nil
}

// fraction reports whether v is a non-integral number compared with an
// integer column. The drivers would truncate it when binding it to the
// column's type, so the leaf is rewritten on whole numbers instead.
func fraction(f *Field, v any) (float64, bool) {
	x, ok := v.(float64)
	return x, ok && f.Type == Integer && x != math.Trunc(x) && !math.IsInf(x, 0) && !math.IsNaN(x)
}

// pyTruthy is Python's truth value of a decoded RPC value.
func pyTruthy(v any) bool {
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
	}
	if l, ok := asList(v); ok {
		return len(l) > 0
	}
	return true
}

// likeText is the text a like pattern is built from: Python's str() of the
// value, except that False and None are the empty pattern (matching all).
func likeText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case bool:
		if x {
			return "True", true
		}
		return "", true
	case string:
		if !utf8.ValidString(x) {
			return "", false
		}
		return x, true
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
		return x.UTC().Format(DatetimeFormat), true
	}
	return "", false
}

// stringValues reports whether v is a name or a non-empty list of names,
// which a relational leaf resolves through a name search.
func stringValues(v any) (any, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	l, ok := asList(v)
	if !ok || len(l) == 0 {
		return nil, false
	}
	for _, x := range l {
		if _, ok := x.(string); !ok {
			return nil, false
		}
	}
	return l, true
}

// pyInt reads a value the way Python compares it with an int.
func pyInt(v any) (int64, bool) {
	if b, ok := v.(bool); ok {
		if b {
			return 1, true
		}
		return 0, true
	}
	return asInt(v)
}

// asList returns the items of a list value; Go callers may pass typed
// slices of ids or names.
func asList(v any) ([]any, bool) {
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

// reprAny renders a client value in Python-like syntax for messages.
func reprAny(v any) string {
	if l, ok := asList(v); ok {
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = reprAny(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case map[string]any:
		return "{...}"
	}
	return reprValue(v)
}

// reprShort is reprAny cut to a length fit for an error message.
func reprShort(v any) string {
	s := reprAny(v)
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "") + "..."
	}
	return s
}
