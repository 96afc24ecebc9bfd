package jsonpath

import (
	"bytes"
	"encoding/json"
)

// A path's value is found by scanning the payload, not decoding it: the
// listener hands every message to the rules, and decoding a whole
// document into maps for one number cost most of the time. The payload
// is first checked with Valid, so the scanner below may trust it.

// Scan returns the raw JSON of the path's value in data, a document
// Valid said is JSON (the scanner trusts it); a nil path is the whole
// document.
func (p *Path) Scan(data []byte) ([]byte, bool) {
	v := trimSpace(data)
	if p == nil {
		return v, len(v) > 0
	}
	for _, st := range p.Steps {
		var ok bool
		if st.IsKey {
			v, ok = objectMember(v, st.Key)
		} else {
			v, ok = arrayElement(v, st.Index)
		}
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// objectMember is the value of key in the object v starts with.
func objectMember(v []byte, key string) ([]byte, bool) {
	if len(v) == 0 || v[0] != '{' {
		return nil, false
	}
	// The last of duplicate keys wins, as when decoding.
	var found []byte
	i := skipSpace(v, 1)
	for i < len(v) && v[i] == '"' {
		end := skipString(v, i)
		k := v[i:end]
		i = skipSpace(v, end)
		i = skipSpace(v, i+1) // the ':'
		vend := skipValue(v, i)
		if keyEquals(k, key) {
			found = v[i:vend]
		}
		i = skipSpace(v, vend)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return found, found != nil
}

// arrayElement is element n of the array v starts with.
func arrayElement(v []byte, n int) ([]byte, bool) {
	if len(v) == 0 || v[0] != '[' {
		return nil, false
	}
	i := skipSpace(v, 1)
	for k := 0; i < len(v) && v[i] != ']'; k++ {
		end := skipValue(v, i)
		if k == n {
			return v[i:end], true
		}
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return nil, false
}

// keyEquals compares a raw JSON string with key, unescaping only when
// it has escapes.
func keyEquals(raw []byte, key string) bool {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == key
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == key
}

// skipValue returns the end of the value starting at i.
func skipValue(v []byte, i int) int {
	if i >= len(v) {
		return i
	}
	switch v[i] {
	case '"':
		return skipString(v, i)
	case '{', '[':
		depth := 0
		for i < len(v) {
			switch v[i] {
			case '"':
				i = skipString(v, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(v) { // a number, true, false or null
		switch v[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the end of the string starting at i (its quote).
func skipString(v []byte, i int) int {
	for i++; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

func trimSpace(v []byte) []byte {
	i := skipSpace(v, 0)
	j := len(v)
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t' || v[j-1] == '\n' || v[j-1] == '\r') {
		j--
	}
	return v[i:j]
}
