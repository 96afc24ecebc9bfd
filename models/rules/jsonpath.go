package rules

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonpath"
)

// The path parser and scanner live in internal/jsonpath, which the
// history charts (models/mqtt) share: this package imports models/mqtt.
type jsonPath = jsonpath.Path

func parsePath(s string) (*jsonPath, error) { return jsonpath.Parse(s) }

func validJSON(data []byte) bool { return jsonpath.Valid(data) }

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
		path = p.Raw
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
	raw, ok := p.Scan(payload)
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

// rawValue is the value of a raw JSON value, as extract gives it.
func rawValue(raw []byte) value {
	switch raw[0] {
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s) // valid: checked with the document
		return textValue(s)
	case 'n':
		return value{text: "null"}
	case 't', 'f':
		return value{text: string(raw)}
	case '{', '[':
		var buf bytes.Buffer
		if json.Compact(&buf, raw) != nil {
			return value{text: string(raw)}
		}
		return value{text: buf.String()}
	}
	return textValue(string(raw)) // a number, as written
}
