package xmlrpc

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
)

// maxDepth bounds how deeply arrays and structs may nest in a request. Odoo
// domains and kwargs are a handful of levels deep; the bound exists so that
// hostile input cannot exhaust the stack of the recursive decoder.
const maxDepth = 100

// DecodeCall parses a <methodCall> document.
//
// method is the trimmed, non-empty <methodName>. params is never nil: a call
// without <params> has an empty slice. Errors caused by the document wrap
// ErrMalformed and name the offending construct; an error from r itself is
// wrapped as is.
func DecodeCall(r io.Reader) (method string, params []any, err error) {
	p := newDecoder(r)
	if err := p.root("methodCall"); err != nil {
		return "", nil, err
	}
	method, params, err = p.methodCall()
	if err != nil {
		return "", nil, err
	}
	if err := p.epilogue("methodCall"); err != nil {
		return "", nil, err
	}
	return method, params, nil
}

// decoder walks the token stream of one document. Elements are matched by
// local name only: Python's Unmarshaller drops any "prefix:" too, which is
// why clients can send <ex:nil/> (Apache XML-RPC's extension namespace).
type decoder struct {
	d      *xml.Decoder
	src    *trackingReader
	depth  int    // current array/struct nesting
	buf    []byte // scratch for element text, reused by every leaf
	tokens int    // tokens read so far, to recognise the XML declaration
}

func newDecoder(r io.Reader) *decoder {
	src := &trackingReader{r: r}
	br := bufio.NewReader(src)
	// Python's expat accepts a UTF-8 byte order mark; encoding/xml would
	// report it as text before the root element.
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	d := xml.NewDecoder(br)
	d.Strict = true // unknown entities, mismatched tags and bad UTF-8 are errors
	d.CharsetReader = charsetReader
	return &decoder{d: d, src: src}
}

// methodCall reads the children of <methodCall>. Python does not care about
// their order, so neither do we, but each may appear only once.
func (p *decoder) methodCall() (string, []any, error) {
	var method string
	var params []any
	haveName := false
	for {
		name, ok, err := p.child("methodCall")
		if err != nil {
			return "", nil, err
		}
		if !ok {
			break
		}
		switch name {
		case "methodName":
			if haveName {
				return "", nil, p.malformed("more than one <methodName>")
			}
			text, err := p.text(name)
			if err != nil {
				return "", nil, err
			}
			// Trimmed, unlike Python: a pretty-printed name can only
			// ever have meant the method without the indentation.
			method = strings.TrimSpace(string(text))
			haveName = true
		case "params":
			if params != nil {
				return "", nil, p.malformed("more than one <params>")
			}
			if params, err = p.params(); err != nil {
				return "", nil, err
			}
		default:
			return "", nil, p.malformed("unexpected element <%s> in methodCall", name)
		}
	}
	if !haveName {
		return "", nil, p.malformed("missing <methodName>")
	}
	if method == "" {
		return "", nil, p.malformed("empty <methodName>")
	}
	if params == nil {
		params = []any{}
	}
	return method, params, nil
}

// params reads <param> children; the result is non-nil even when empty so
// that methodCall can tell "absent" from "present but empty".
func (p *decoder) params() ([]any, error) {
	params := []any{}
	for {
		name, ok, err := p.child("params")
		if err != nil || !ok {
			return params, err
		}
		if name != "param" {
			return nil, p.malformed("unexpected element <%s> in params", name)
		}
		v, err := p.param()
		if err != nil {
			return nil, err
		}
		params = append(params, v)
	}
}

// param reads the single <value> of a <param>.
func (p *decoder) param() (any, error) {
	var v any
	haveValue := false
	for {
		name, ok, err := p.child("param")
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if name != "value" {
			return nil, p.malformed("unexpected element <%s> in param", name)
		}
		if haveValue {
			return nil, p.malformed("more than one <value> in param")
		}
		if v, err = p.value(); err != nil {
			return nil, err
		}
		haveValue = true
	}
	if !haveValue {
		return nil, p.malformed("<param> without <value>")
	}
	return v, nil
}

// root skips the prolog and consumes the start tag of the root element.
func (p *decoder) root(want string) error {
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		if start, ok := t.(xml.StartElement); ok {
			if start.Name.Local != want {
				return p.malformed("root element is <%s>, want <%s>", start.Name.Local, want)
			}
			return nil
		}
		if err := p.ignorable(t, "prolog"); err != nil {
			return err
		}
	}
}

// epilogue checks that nothing but comments and white space follow the
// root element: a second root or trailing text means the body is not the
// document the client thinks it sent.
func (p *decoder) epilogue(root string) error {
	for {
		t, err := p.d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.wrap(err)
		}
		if _, ok := t.(xml.StartElement); ok {
			return p.malformed("content after </%s>", root)
		}
		if err := p.ignorable(t, "epilogue"); err != nil {
			return err
		}
	}
}
