package models

import (
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// Args are a method's arguments after binding positional and keyword
// values to its declared parameters.
type Args map[string]any

// Get returns the bound value of name (the declared default when omitted).
func (a Args) Get(name string) any { return a[name] }

// Has reports whether name was given or has a default.
func (a Args) Has(name string) bool { _, ok := a[name]; return ok }

// bind applies Python's binding rules to a declared parameter list: each
// positional value fills the next parameter, keywords fill by name, a
// parameter given twice, an unknown keyword, too many positionals or a
// missing required parameter is a TypeError, worded like Python's.
func bind(method string, m *Method, args []any, kwargs map[string]any) (Args, error) {
	out := make(Args, len(m.Params)+len(kwargs))
	if len(args) > len(m.Params) {
		return nil, signatureErrorf("%s() takes %d positional arguments but %d were given", method, len(m.Params), len(args))
	}
	for i, v := range args {
		out[m.Params[i].Name] = v
	}
	for k, v := range kwargs {
		known := false
		for _, p := range m.Params {
			if p.Name == k || (p.Alias != "" && p.Alias == k) {
				known, k = true, p.Name
				break
			}
		}
		if !known && !m.Rest {
			return nil, signatureErrorf("%s() got an unexpected keyword argument '%s'", method, k)
		}
		if _, dup := out[k]; dup {
			return nil, signatureErrorf("%s() got multiple values for argument '%s'", method, k)
		}
		out[k] = v
	}
	var missing []string
	for _, p := range m.Params {
		if _, ok := out[p.Name]; ok {
			continue
		}
		if p.Optional {
			out[p.Name] = p.Default
			continue
		}
		missing = append(missing, "'"+p.Name+"'")
	}
	if len(missing) > 0 {
		return nil, signatureErrorf("%s() missing %d required positional argument(s): %s", method, len(missing), strings.Join(missing, ", "))
	}
	return out, nil
}

// idsArg turns the first argument of a record-level call into ids: a list
// of ints or a bare int; False, None and [] are the empty set.
func idsArg(v any) ([]int64, error) {
	if py.IsFalse(v) {
		return nil, nil
	}
	if n, ok := py.Int(v); ok {
		return []int64{n}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, ValueErrorf("Invalid ids %s: expected a list of integers or an integer", py.Repr(v))
	}
	ids := make([]int64, 0, len(list))
	for _, x := range list {
		n, ok := py.Int(x)
		if !ok {
			return nil, ValueErrorf("Invalid id %s: expected an integer", py.Repr(x))
		}
		ids = append(ids, n)
	}
	return ids, nil
}
