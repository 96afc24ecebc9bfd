package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A JSON path picks the value a rule's condition looks at out of a JSON
// payload: dotted keys with list indexes, "a.b[0].c", or the same rooted
// at "$" as in JSONPath, "$.sensors[0].value" ("$" alone is the whole
// document). Keys are whatever lies between the dots and brackets; an
// index is a non-negative integer. Nothing fancier (filters, slices,
// wildcards): a rule compares one value.

// pathStep is one step of a path: a key, or an index when key is "".
type pathStep struct {
	key   string
	index int
	isKey bool
}

// jsonPath is a parsed path; no steps is the whole document.
type jsonPath struct {
	raw   string // as written, which rules sharing it share values by
	steps []pathStep
}

// parsePath parses a path; "" is no path (the whole payload as text or a
// number, not necessarily JSON).
func parsePath(s string) (*jsonPath, error) {
	if s == "" {
		return nil, nil
	}
	rest := s
	if r, ok := strings.CutPrefix(rest, "$"); ok {
		rest = r
		if rest == "" {
			return &jsonPath{raw: s}, nil
		}
		if rest[0] != '.' && rest[0] != '[' {
			return nil, fmt.Errorf("%q: after \"$\" comes \".key\" or \"[index]\"", s)
		}
		rest = strings.TrimPrefix(rest, ".")
	}
	p := &jsonPath{raw: s}
	for rest != "" {
		switch rest[0] {
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("%q: \"[\" without \"]\"", s)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%q: %q is not a list index (0, 1, ...)", s, rest[1:end])
			}
			p.steps = append(p.steps, pathStep{index: n})
			rest = rest[end+1:]
			if rest != "" && rest[0] != '.' && rest[0] != '[' {
				return nil, fmt.Errorf("%q: after \"]\" comes \".key\" or \"[index]\"", s)
			}
			rest = strings.TrimPrefix(rest, ".")
			if rest == "" && strings.HasSuffix(s, ".") {
				return nil, fmt.Errorf("%q: a key is missing after the last \".\"", s)
			}
		case '.':
			return nil, fmt.Errorf("%q: an empty key (\"..\" or a leading \".\")", s)
		default:
			end := strings.IndexAny(rest, ".[]")
			key := rest
			if end >= 0 {
				key, rest = rest[:end], rest[end:]
			} else {
				rest = ""
			}
			if strings.ContainsAny(key, " \t") && strings.TrimSpace(key) != key {
				return nil, fmt.Errorf("%q: key %q has surrounding spaces", s, key)
			}
			p.steps = append(p.steps, pathStep{key: key, isKey: true})
			if rest == "" {
				break
			}
			switch rest[0] {
			case ']':
				return nil, fmt.Errorf("%q: \"]\" without \"[\"", s)
			case '.':
				rest = rest[1:]
				if rest == "" {
					return nil, fmt.Errorf("%q: a key is missing after the last \".\"", s)
				}
			}
		}
	}
	return p, nil
}

// get walks doc (decoded JSON) along the path; ok is false when a step
// finds nothing.
func (p *jsonPath) get(doc any) (any, bool) {
	v := doc
	for _, st := range p.steps {
		if st.isKey {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = obj[st.key]; !ok {
				return nil, false
			}
			continue
		}
		list, ok := v.([]any)
		if !ok || st.index >= len(list) {
			return nil, false
		}
		v = list[st.index]
	}
	return v, true
}

// value is what a condition compares: a number when the payload or the
// picked JSON value is one (or a string holding one), and its text.
type value struct {
	text  string
	num   float64
	isNum bool
}

// extract picks a rule's value out of a payload: the whole payload
// (trimmed) without a path, else the path's value in the payload parsed
// as JSON. ok is false when the payload is not JSON or the path finds
// nothing.
func extract(p *jsonPath, payload []byte) (value, bool) {
	var d doc
	return d.extract(p, payload)
}

// doc is a payload parsed as JSON once for all the rules that look into
// it, with the values of the last paths asked (rules often share one).
// The zero value has not parsed yet.
type doc struct {
	parsed, ok bool // checked with validJSON, and the answer
	memo       [4]memoValue
	n          int // memo entries used
}

type memoValue struct {
	path  string // the path as written; none when whole
	whole bool
	v     value
	ok    bool
}

func (d *doc) extract(p *jsonPath, payload []byte) (value, bool) {
	path, whole := "", p == nil
	if !whole {
		path = p.raw
	}
	for i := range d.n {
		if m := &d.memo[i]; m.whole == whole && m.path == path {
			return m.v, m.ok
		}
	}
	v, ok := d.compute(p, payload)
	if d.n < len(d.memo) {
		d.memo[d.n] = memoValue{path: path, whole: whole, v: v, ok: ok}
		d.n++
	}
	return v, ok
}

func (d *doc) compute(p *jsonPath, payload []byte) (value, bool) {
	if p == nil {
		return textValue(strings.TrimSpace(string(payload))), true
	}
	if !d.parsed {
		d.parsed, d.ok = true, validJSON(payload)
	}
	if !d.ok {
		return value{}, false
	}
	raw, ok := scanPath(payload, p.steps)
	if !ok {
		return value{}, false
	}
	return rawValue(raw), true
}

// textValue is a text value, a number too when it reads as one.
func textValue(s string) value {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return value{text: s, num: f, isNum: err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)}
}
