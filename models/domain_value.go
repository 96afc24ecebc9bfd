package models

import (
	"math"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// value converts a comparison value for f's column. Char, text and
// selection values are compared as given (Odoo does not validate them, and
// a search for a longer string than the column's size is no error); other
// types go through toDB so datetimes and booleans bind right on both
// databases.
func (c *compiler) value(f *Field, v any, lf *leaf) (any, error) {
	switch f.Type {
	case Char, Text, Selection:
		if py.IsFalse(v) {
			return nil, nil
		}
		if _, isBool := v.(bool); !isBool {
			if text, ok := likeText(v); ok {
				return text, nil
			}
		}
		return nil, ValueErrorf("Invalid value %s in leaf %s: want a string of valid UTF-8", py.ReprShort(v), lf.text())
	}
	if _, isList := py.List(v); isList {
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
		return nil, ValueErrorf("Invalid value %s in leaf %s: %s", py.ReprShort(v), lf.text(), MessageOf(err))
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

// beyond is 1 when v is an integer above what f's integer or many2one
// column holds, -1 when it is one below, 0 otherwise (in range, or not
// an integer).
func beyond(f *Field, v any) int {
	var lo, hi int64 = math.MinInt64, math.MaxInt64
	switch f.Type {
	case Integer:
		lo, hi = f.integerRange()
	case Many2one:
	default:
		return 0
	}
	if _, isStr := v.(string); isStr && f.Type == Many2one {
		return 0
	}
	n, ok, exact := integralValue(v)
	switch {
	case !ok:
		return 0
	case !exact:
		// Beyond int64: a float's sign, or a decimal string's.
		switch x := v.(type) {
		case float64:
			if x < 0 {
				return -1
			}
		case string:
			if strings.HasPrefix(strings.TrimSpace(x), "-") {
				return -1
			}
		}
		return 1
	case n > hi:
		return 1
	case n < lo:
		return -1
	}
	return 0
}

// likeText is the text a like pattern is built from: Python's str() of
// the value, except that False and None are the empty pattern (matching
// all).
func likeText(v any) (string, bool) {
	if py.IsFalse(v) {
		return "", true
	}
	return py.Str(v)
}

// stringValues reports whether v is a name or a non-empty list of names,
// which a relational leaf resolves through a name search.
func stringValues(v any) (any, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	l, ok := py.List(v)
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
