// Package py holds the rules by which the engine reads RPC values the
// way Odoo's Python does: which values are false, how a value compares
// with an int, how it prints in a message.
package py

import "math"

// Int reads the integer shapes that arrive from codecs: int64 from
// XML-RPC, float64 from JSON (when integral). Booleans are not ints here.
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
