package xmlrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// requirePython returns the python3 path, or skips (fails under CI=true).
func requirePython(t *testing.T) string {
	t.Helper()
	return testkit.Tool(t, "the checks against Python's xmlrpc.client need it", "python3")
}

// orderedDict is a minimal Ranger, standing in for the model layer's
// ordered dicts (fields_get results).
type orderedDict struct {
	keys []string
	vals []any
}

func (d orderedDict) Range(yield func(string, any) bool) {
	for i, k := range d.keys {
		if !yield(k, d.vals[i]) {
			return
		}
	}
}

// readJSONValue parses a golden .json file into the Go types DecodeCall
// returns: integers become int64 and numbers with '.' or 'e' float64.
func readJSONValue(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fromJSON(t, v)
}

func fromJSON(t *testing.T, v any) any {
	switch x := v.(type) {
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			n, err := x.Int64()
			if err != nil {
				t.Fatalf("golden int %s: %v", x, err)
			}
			return n
		}
		f, err := x.Float64()
		if err != nil {
			t.Fatalf("golden float %s: %v", x, err)
		}
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromJSON(t, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = fromJSON(t, e)
		}
		return out
	}
	return v
}

// equalValues is reflect.DeepEqual for decoded values, except that NaN
// equals NaN (a decoded "nan" must survive a round trip) and -0 equals 0.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// show formats a value with its types, for failure messages.
func show(v any) string { return fmt.Sprintf("%#v", v) }

// odooView is what a decoded value looks like after EncodeResponse and a
// decode: ints beyond int32 travel as doubles.
func odooView(v any) any {
	switch x := v.(type) {
	case int64:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return float64(x)
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = odooView(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = odooView(e)
		}
		return out
	}
	return v
}

// containsNil reports whether a decoded value holds a nil anywhere.
func containsNil(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		for _, e := range x {
			if containsNil(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if containsNil(e) {
				return true
			}
		}
	}
	return false
}

// decodeResponse reads a <methodResponse><params> document back into a
// value, reusing the package's value decoder; it lets the fuzz test check
// that what we encode is what we meant.
func decodeResponse(b []byte) (any, error) {
	p := newDecoder(bytes.NewReader(b))
	if err := p.root("methodResponse"); err != nil {
		return nil, err
	}
	if name, ok, err := p.child("methodResponse"); err != nil || !ok || name != "params" {
		return nil, fmt.Errorf("want <params>, got <%s> (%v)", name, err)
	}
	if name, ok, err := p.child("params"); err != nil || !ok || name != "param" {
		return nil, fmt.Errorf("want <param>, got <%s> (%v)", name, err)
	}
	v, err := p.param()
	if err != nil {
		return nil, err
	}
	for _, in := range []string{"params", "methodResponse"} {
		if name, ok, err := p.child(in); err != nil || ok {
			return nil, fmt.Errorf("unexpected <%s> in %s (%v)", name, in, err)
		}
	}
	return v, p.epilogue("methodResponse")
}

func inf(sign int) float64 { return math.Inf(sign) }
