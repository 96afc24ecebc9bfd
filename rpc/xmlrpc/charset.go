package xmlrpc

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// charsetReader lets encoding/xml read bodies declared in the encodings XML-RPC
// clients actually use besides UTF-8: PHP's xmlrpc extension declares
// ISO-8859-1 by default. Other encodings are refused rather than misread.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf8", "utf-8", "us-ascii", "ascii":
		// ASCII is a subset of UTF-8; the decoder still rejects invalid bytes.
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return &latin1Reader{r: input}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", charset)
}

// latin1Reader converts ISO-8859-1 to UTF-8: each byte is the code point of
// the same value, so no table is needed.
type latin1Reader struct {
	r       io.Reader
	raw     [512]byte
	conv    []byte // conversion buffer, reused
	pending []byte // part of conv not yet returned
	err     error  // error from r, returned once pending is drained
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		n, err := l.r.Read(l.raw[:])
		l.err = err
		out := l.conv[:0]
		for _, b := range l.raw[:n] {
			out = utf8.AppendRune(out, rune(b))
		}
		l.conv, l.pending = out, out
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}
