package xmlrpc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scalar converts the text of a leaf type element. Numbers, booleans and
// dates are trimmed (Python's int() and float() ignore surrounding white
// space); strings are kept as sent.
func scalar(typ string, text []byte) (any, error) {
	switch typ {
	case "string":
		return string(text), nil
	case "base64":
		return decodeBase64(text)
	}
	s := strings.TrimSpace(string(text))
	switch typ {
	case "boolean":
		switch s {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, fmt.Errorf("invalid <boolean> value %q", s)
	case "double", "float":
		f, err := strconv.ParseFloat(s, 64)
		// Out of range is not an error for Python's float(): "1e999" is inf
		// and "1e-999" is 0.0, which is what ParseFloat returns with ErrRange.
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("invalid <%s> value %q", typ, s)
		}
		return f, nil
	case "dateTime.iso8601":
		return decodeDateTime(s)
	}
	// The integer family: Python reads all of them with int().
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("<%s> value %q out of int64 range", typ, s)
		}
		return nil, fmt.Errorf("invalid <%s> value %q", typ, s)
	}
	return n, nil
}

// decodeDateTime accepts the compact ISO 8601 form Python sends and the
// extended form other clients send, and returns Odoo's datetime string, the
// only representation Odoo's ORM accepts for a datetime field.
func decodeDateTime(s string) (any, error) {
	for _, layout := range [...]string{"20060102T15:04:05", "2006-01-02T15:04:05"} {
		if len(s) == len(layout) {
			if t, err := time.Parse(layout, s); err == nil {
				return t.Format("2006-01-02 15:04:05"), nil
			}
		}
	}
	return nil, fmt.Errorf("invalid <dateTime.iso8601> value %q", s)
}

// decodeBase64 returns the base64 text itself, without the line breaks
// Python inserts every 76 characters: Odoo binary fields take base64 strings,
// so decoding here would only force the model layer to encode again. The
// text is still validated, as Python's loads would reject it.
func decodeBase64(text []byte) (any, error) {
	clean := make([]byte, 0, len(text))
	for _, c := range text {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			clean = append(clean, c)
		}
	}
	if _, err := base64.StdEncoding.DecodeString(string(clean)); err != nil {
		return nil, fmt.Errorf("invalid <base64> value: %v", err)
	}
	return string(clean), nil
}
