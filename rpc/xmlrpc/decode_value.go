package xmlrpc

import "encoding/xml"

// value reads the content of a <value> element whose start tag has been
// consumed, up to and including its end tag.
//
// Without a type element the content is a string kept verbatim, white space
// included, because that is what Python's Unmarshaller does; <value/> is
// therefore "" and, unlike in kolo/xmlrpc, does not swallow its siblings.
// Around a type element only white space and comments are allowed.
func (p *decoder) value() (any, error) {
	p.buf = p.buf[:0]
	for {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.CharData:
			p.buf = append(p.buf, t...)
			continue
		case xml.EndElement:
			return string(p.buf), nil
		case xml.StartElement:
			if !isSpace(p.buf) {
				return nil, p.malformed("unexpected text %q before <%s> in value", abbrev(p.buf), t.Name.Local)
			}
			v, err := p.typed(t.Name.Local)
			if err != nil {
				return nil, err
			}
			name, ok, err := p.child("value")
			if err != nil {
				return nil, err
			}
			if ok {
				return nil, p.malformed("unexpected element <%s> after <%s> in value", name, t.Name.Local)
			}
			return v, nil
		}
		if err := p.ignorable(t, "value"); err != nil {
			return nil, err
		}
	}
}

// typed reads one type element (its start tag consumed) and returns the
// plain Go value it stands for.
func (p *decoder) typed(name string) (any, error) {
	switch name {
	case "array":
		return p.nested(name, p.array)
	case "struct":
		return p.nested(name, p.structure)
	case "nil":
		text, err := p.text(name)
		if err != nil {
			return nil, err
		}
		if !isSpace(text) {
			return nil, p.malformed("unexpected text %q in nil", abbrev(text))
		}
		return nil, nil
	case "string", "int", "i4", "i8", "i1", "i2", "biginteger",
		"boolean", "double", "float", "dateTime.iso8601", "base64":
		text, err := p.text(name)
		if err != nil {
			return nil, err
		}
		v, err := scalar(name, text)
		if err != nil {
			return nil, p.malformed("%v", err)
		}
		return v, nil
	}
	return nil, p.malformed("unexpected element <%s> in value", name)
}

// nested runs read one level deeper, refusing to go past maxDepth.
func (p *decoder) nested(name string, read func() (any, error)) (any, error) {
	if p.depth >= maxDepth {
		return nil, p.malformed("<%s> nested deeper than %d levels", name, maxDepth)
	}
	p.depth++
	v, err := read()
	p.depth--
	return v, err
}

// array reads <array><data><value>...</data></array>. An empty array is
// []any{}, never nil: Odoo tells [] from None. <array/> without <data> is
// accepted as empty, as Python does.
func (p *decoder) array() (any, error) {
	list := []any{}
	haveData := false
	for {
		name, ok, err := p.child("array")
		if err != nil {
			return nil, err
		}
		if !ok {
			return list, nil
		}
		if name != "data" {
			return nil, p.malformed("unexpected element <%s> in array", name)
		}
		if haveData {
			return nil, p.malformed("more than one <data> in array")
		}
		haveData = true
		for {
			name, ok, err := p.child("data")
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			if name != "value" {
				return nil, p.malformed("unexpected element <%s> in data", name)
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	}
}

// structure reads <struct><member>...</struct> into a map; like Python, a
// repeated name keeps the last value.
func (p *decoder) structure() (any, error) {
	m := map[string]any{}
	for {
		name, ok, err := p.child("struct")
		if err != nil {
			return nil, err
		}
		if !ok {
			return m, nil
		}
		if name != "member" {
			return nil, p.malformed("unexpected element <%s> in struct", name)
		}
		k, v, err := p.member()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
}

// member reads <name> then <value>. Python pairs names and values by their
// position on a stack, so a missing or out-of-order part would silently
// shift every later member; we refuse it instead.
func (p *decoder) member() (string, any, error) {
	var key string
	var v any
	haveKey, haveValue := false, false
	for {
		name, ok, err := p.child("member")
		if err != nil {
			return "", nil, err
		}
		if !ok {
			break
		}
		switch {
		case name == "name" && !haveKey:
			text, err := p.text(name)
			if err != nil {
				return "", nil, err
			}
			key, haveKey = string(text), true // verbatim, as Python
		case name == "value" && haveKey && !haveValue:
			if v, err = p.value(); err != nil {
				return "", nil, err
			}
			haveValue = true
		default:
			return "", nil, p.malformed("unexpected element <%s> in member", name)
		}
	}
	if !haveKey {
		return "", nil, p.malformed("member without <name>")
	}
	if !haveValue {
		return "", nil, p.malformed("member %q has no <value>", key)
	}
	return key, v, nil
}
