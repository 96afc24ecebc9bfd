// Package jsonpath is the small JSON path both the automation rules and
// the history charts pick a value out of a payload with: dotted keys with
// list indexes, parsed once, found by scanning the payload rather than
// decoding it.
package jsonpath

import (
	"fmt"
	"strconv"
	"strings"
)

// A JSON path picks the value a rule's condition looks at out of a JSON
// payload: dotted keys with list indexes, "a.b[0].c", or the same rooted
// at "$" as in JSONPath, "$.sensors[0].value" ("$" alone is the whole
// document). Keys are whatever lies between the dots and brackets; an
// index is a non-negative integer. Nothing fancier (filters, slices,
// wildcards): a rule compares one value.

// Step is one step of a path: a key, or an index when key is "".
type Step struct {
	Key   string
	Index int
	IsKey bool
}

// Path is a parsed path; no steps is the whole document.
type Path struct {
	Raw   string // as written, which rules sharing it share values by
	Steps []Step
}

// Parse parses a path; "" is no path (the whole payload as text or a
// number, not necessarily JSON).
func Parse(s string) (*Path, error) {
	if s == "" {
		return nil, nil
	}
	rest := s
	if r, ok := strings.CutPrefix(rest, "$"); ok {
		rest = r
		if rest == "" {
			return &Path{Raw: s}, nil
		}
		if rest[0] != '.' && rest[0] != '[' {
			return nil, fmt.Errorf("%q: after \"$\" comes \".key\" or \"[index]\"", s)
		}
		rest = strings.TrimPrefix(rest, ".")
	}
	p := &Path{Raw: s}
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
			p.Steps = append(p.Steps, Step{Index: n})
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
			p.Steps = append(p.Steps, Step{Key: key, IsKey: true})
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

// Get walks doc (decoded JSON) along the path; ok is false when a step
// finds nothing.
func (p *Path) Get(doc any) (any, bool) {
	v := doc
	for _, st := range p.Steps {
		if st.IsKey {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = obj[st.Key]; !ok {
				return nil, false
			}
			continue
		}
		list, ok := v.([]any)
		if !ok || st.Index >= len(list) {
			return nil, false
		}
		v = list[st.Index]
	}
	return v, true
}
