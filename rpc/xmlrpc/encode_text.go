package xmlrpc

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The leaf writers below reproduce Python's Marshaller output for each type.

func (e *encoder) str(s string) {
	e.buf = append(e.buf, "<value><string>"...)
	e.buf = appendText(e.buf, s)
	e.buf = append(e.buf, "</string></value>\n"...)
}

func (e *encoder) boolean(b bool) {
	if b {
		e.buf = append(e.buf, "<value><boolean>1</boolean></value>\n"...)
	} else {
		e.buf = append(e.buf, "<value><boolean>0</boolean></value>\n"...)
	}
}

// int writes n as <int> when it fits in int32. Larger values go out as
// <double>, which is what Odoo's read() does for big integer fields, because
// XML-RPC <int> is 32-bit and Python's Marshaller refuses to exceed it.
func (e *encoder) int(n int64) {
	if n < math.MinInt32 || n > math.MaxInt32 {
		e.double(float64(n), 64)
		return
	}
	e.buf = append(e.buf, "<value><int>"...)
	e.buf = strconv.AppendInt(e.buf, n, 10)
	e.buf = append(e.buf, "</int></value>\n"...)
}

func (e *encoder) double(f float64, bits int) {
	e.buf = append(e.buf, "<value><double>"...)
	e.buf = appendPythonFloat(e.buf, f, bits)
	e.buf = append(e.buf, "</double></value>\n"...)
}

func (e *encoder) memberName(k string) {
	e.buf = append(e.buf, "<member>\n<name>"...)
	e.buf = appendText(e.buf, k)
	e.buf = append(e.buf, "</name>\n"...)
}

// appendText appends s as XML character data, cleaned the way Odoo cleans
// strings so that every XML 1.0 parser accepts the result:
//   - &, < and > are escaped (Python's xmlrpc escape());
//   - ASCII control characters other than TAB, LF and CR are dropped, as
//     Odoo does: XML 1.0 cannot carry them at all;
//   - U+FFFE and U+FFFF are dropped for the same reason;
//   - invalid UTF-8 becomes U+FFFD;
//   - CR is written as &#13;, because a raw CR would reach the client as LF
//     (XML end-of-line normalisation). Odoo writes it raw and loses it.
func appendText(buf []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '\r':
				esc = "&#13;"
			case c < 0x20 && c != '\t' && c != '\n':
				esc = ""
			default:
				i++
				continue
			}
			buf = append(buf, s[last:i]...)
			buf = append(buf, esc...)
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, s[last:i]...)
			buf = append(buf, "\uFFFD"...)
		case r == 0xFFFE || r == 0xFFFF:
			buf = append(buf, s[last:i]...)
		default:
			i += size
			continue
		}
		i += size
		last = i
	}
	return append(buf, s[last:]...)
}

// appendPythonFloat appends Python's repr(f): the shortest digits that read
// back to f, in fixed notation for exponents -4..15 ("0.0001", "1e+16"),
// always with a ".0" or an exponent so Python reads a float, and nan/inf
// spelled as float() accepts them.
func appendPythonFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "nan"...)
	case math.IsInf(f, 1):
		return append(buf, "inf"...)
	case math.IsInf(f, -1):
		return append(buf, "-inf"...)
	}
	var scratch [32]byte
	sci := strconv.AppendFloat(scratch[:0], f, 'e', -1, bits) // -d.ddde±xx
	if sci[0] == '-' {
		buf = append(buf, '-')
		sci = sci[1:]
	}
	mark := 0
	for sci[mark] != 'e' {
		mark++
	}
	exp, _ := strconv.Atoi(string(sci[mark+1:]))
	var digitBuf [32]byte
	digits := append(digitBuf[:0], sci[0])
	if mark > 1 {
		digits = append(digits, sci[2:mark]...) // skip the '.'
	}
	switch {
	case exp >= 16 || exp < -4:
		buf = append(buf, digits[0])
		if len(digits) > 1 {
			buf = append(buf, '.')
			buf = append(buf, digits[1:]...)
		}
		buf = append(buf, 'e')
		if exp < 0 {
			buf = append(buf, '-')
			exp = -exp
		} else {
			buf = append(buf, '+')
		}
		if exp < 10 {
			buf = append(buf, '0')
		}
		return strconv.AppendInt(buf, int64(exp), 10)
	case exp < 0:
		buf = append(buf, "0."...)
		for range -exp - 1 {
			buf = append(buf, '0')
		}
		return append(buf, digits...)
	case len(digits) <= exp+1:
		buf = append(buf, digits...)
		for range exp + 1 - len(digits) {
			buf = append(buf, '0')
		}
		return append(buf, ".0"...)
	default:
		buf = append(buf, digits[:exp+1]...)
		buf = append(buf, '.')
		return append(buf, digits[exp+1:]...)
	}
}
