package xmlrpc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Token-level helpers shared by the envelope and value decoders. They keep
// the rule "only white space, comments and processing instructions may sit
// between elements" in one place.

// child returns the local name of the next child element of <in>, or
// ok=false once </in> is reached (the strict decoder guarantees it matches).
func (p *decoder) child(in string) (name string, ok bool, err error) {
	for {
		t, err := p.token()
		if err != nil {
			return "", false, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return t.Name.Local, true, nil
		case xml.EndElement:
			return "", false, nil
		}
		if err := p.ignorable(t, in); err != nil {
			return "", false, err
		}
	}
}

// text returns the character data of leaf element <in> up to its end tag.
// The slice is p.buf and is only valid until the next read.
func (p *decoder) text(in string) ([]byte, error) {
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
		case xml.StartElement:
			return nil, p.malformed("unexpected element <%s> in %s", t.Name.Local, in)
		case xml.EndElement:
			return p.buf, nil
		}
		if err := p.ignorable(t, in); err != nil {
			return nil, err
		}
	}
}

// ignorable accepts the tokens that may appear between elements (comments,
// processing instructions, white space) and rejects the rest with an error
// naming where they were found.
func (p *decoder) ignorable(t xml.Token, in string) error {
	switch t := t.(type) {
	case xml.CharData:
		if !isSpace(t) {
			return p.malformed("unexpected text %q in %s", abbrev(t), in)
		}
	case xml.Directive:
		// DOCTYPE could declare entities; XML-RPC has no use for any.
		return p.malformed("unexpected directive <!%s> in %s", abbrev(t), in)
	case xml.ProcInst:
		// encoding/xml does not itself reject a misplaced declaration.
		if strings.EqualFold(t.Target, "xml") && p.tokens != 1 {
			return p.malformed("XML declaration not at start of document")
		}
	}
	return nil
}

// token returns the next token; running out of input is an error because
// every caller is still inside the root element.
func (p *decoder) token() (xml.Token, error) {
	t, err := p.d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, p.malformed("unexpected end of document")
		}
		return nil, p.wrap(err)
	}
	p.tokens++
	return t, nil
}

// wrap classifies an error from encoding/xml: failures of the underlying
// reader are passed through (the caller may want to answer "body too large"
// differently), everything else is a malformed document.
func (p *decoder) wrap(err error) error {
	if p.src.err != nil {
		return fmt.Errorf("xmlrpc: reading request: %w", p.src.err)
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &malformedError{msg: se.Error()}
	}
	return &malformedError{msg: err.Error()}
}

// malformed builds an ErrMalformed error that says where the decoder was.
func (p *decoder) malformed(format string, args ...any) error {
	line, _ := p.d.InputPos()
	return &malformedError{msg: fmt.Sprintf(format, args...) + fmt.Sprintf(" (line %d)", line)}
}

// malformedError carries a specific message while matching ErrMalformed.
type malformedError struct{ msg string }

func (e *malformedError) Error() string        { return "xmlrpc: " + e.msg }
func (e *malformedError) Is(target error) bool { return target == ErrMalformed }

// trackingReader remembers the first non-EOF error of the request body so
// that wrap can tell I/O failures from syntax errors.
type trackingReader struct {
	r   io.Reader
	err error
}

func (t *trackingReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// isSpace reports whether b is only XML white space.
func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// abbrev shortens text quoted in error messages; a fault should not echo a
// whole hostile body back.
func abbrev(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
