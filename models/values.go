package models

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// Odoo's wire formats for dates and datetimes (UTC, no zone, no fraction).
const (
	DatetimeFormat = "2006-01-02 15:04:05"
	DateFormat     = "2006-01-02"
)

// parseDatetime accepts "YYYY-MM-DD HH:MM:SS" (optionally with a fraction
// or a T separator) and "YYYY-MM-DD", as Odoo's to_datetime does.
func parseDatetime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{DatetimeFormat, "2006-01-02 15:04:05.999999", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", time.RFC3339Nano, DateFormat} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s is not a datetime (want YYYY-MM-DD HH:MM:SS)", py.Repr(s))
}

// dbDatetime is the parameter for a datetime column: PostgreSQL takes a
// time.Time; SQLite keeps the Odoo text form, which sorts and compares right.
func (d Dialect) dbDatetime(t time.Time) any {
	t = t.UTC().Truncate(time.Second)
	if d == Postgres {
		return t
	}
	return t.Format(DatetimeFormat)
}

func (d Dialect) dbDate(t time.Time) any { return t.Format(DateFormat) }

// toDB converts a client value (as decoded from XML-RPC or JSON) into the
// parameter stored in f's column. False means NULL for every type but
// boolean, as in Odoo.
func (f *Field) toDB(d Dialect, v any) (any, error) {
	if f.Type != Boolean && py.IsFalse(v) {
		return nil, nil
	}
	conv := toDBConverters[f.Type]
	if conv == nil {
		return nil, f.badValue(v, "a storable value")
	}
	return conv(f, d, v)
}

// dbConverter converts a client value for a column of one field type. It
// never sees False unless the type is boolean: toDB maps False to NULL.
type dbConverter func(f *Field, d Dialect, v any) (any, error)

// toDBConverters has one converter per stored field type; one2many and
// many2many have no column, so no entry.
var toDBConverters = map[FieldType]dbConverter{
	Boolean:   booleanToDB,
	Char:      textToDB,
	Text:      textToDB,
	Selection: selectionToDB,
	Integer:   integerToDB,
	Many2one:  many2oneToDB,
	Float:     floatToDB,
	Datetime:  datetimeToDB,
	Date:      dateToDB,
	Binary:    binaryToDB,
}

// badValue is the ValueError for a client value f cannot store; want
// says what was expected.
func (f *Field) badValue(v any, want string) error {
	return ValueErrorf("Invalid value %s for field %s.%s (%s): want %s", py.Repr(v), f.model.Name, f.Name, f.Type, want)
}

// booleanToDB follows Python truthiness: nil is false, numbers are true
// when non-zero, strings when non-empty.
func booleanToDB(f *Field, _ Dialect, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	if n, ok := py.Int(v); ok {
		return n != 0, nil
	}
	if s, ok := v.(string); ok {
		return s != "", nil
	}
	return nil, f.badValue(v, "a boolean")
}

// textToDB takes a string (valid UTF-8, within f.Size characters) or a
// number, stored as its text.
func textToDB(f *Field, _ Dialect, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		if n, isNum := py.Float(v); isNum {
			// Odoo stores str(value): port '1883' may arrive as 1883.
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return pyNonFinite(n), nil
			}
			if n == math.Trunc(n) {
				return strconv.FormatInt(int64(n), 10), nil
			}
			return strconv.FormatFloat(n, 'g', -1, 64), nil
		}
		return nil, f.badValue(v, "a string")
	}
	if !utf8.ValidString(s) {
		return nil, f.badValue(v, "valid UTF-8 text")
	}
	if f.Size > 0 && utf8.RuneCountInString(s) > f.Size {
		return nil, ValidationErrorf("%s: at most %d characters allowed", f.label(), f.Size)
	}
	return s, nil
}

// pyNonFinite is Python's str() of NaN and the infinities.
func pyNonFinite(n float64) string {
	switch {
	case math.IsNaN(n):
		return "nan"
	case n > 0:
		return "inf"
	}
	return "-inf"
}

// selectionToDB takes one of f's selection values.
func selectionToDB(f *Field, _ Dialect, v any) (any, error) {
	s, ok := v.(string)
	if !ok || !f.selectionHas(s) {
		return nil, ValueErrorf("Wrong value for %s.%s: %s", f.model.Name, f.Name, py.Repr(v))
	}
	return s, nil
}

// integerToDB takes an integral number or a decimal string within
// PostgreSQL's integer (int4), the column of Odoo's Integer fields. A
// value outside it is a ValidationError naming the field and the range,
// on SQLite too (whose INTEGER is 64-bit), so that a value is refused
// the same way on both engines rather than as an InternalError from
// PostgreSQL's driver.
func integerToDB(f *Field, _ Dialect, v any) (any, error) {
	n, ok, exact := integralValue(v)
	if !ok {
		return nil, f.badValue(v, "an integer")
	}
	lo, hi := f.integerRange()
	if !exact || n < lo || n > hi {
		return nil, f.outOfRange(v, lo, hi)
	}
	return n, nil
}

// integerRange is what f's integer column holds: int4 for integer fields,
// int64 for the id (an integer field whose column is bigint).
func (f *Field) integerRange() (lo, hi int64) {
	if f.Name == "id" {
		return math.MinInt64, math.MaxInt64
	}
	return math.MinInt32, math.MaxInt32
}

// many2oneToDB takes a record id as an integral number (not a string)
// within int64, the range of an id column (bigint).
func many2oneToDB(f *Field, _ Dialect, v any) (any, error) {
	if _, isStr := v.(string); isStr {
		return nil, f.badValue(v, "a record id")
	}
	n, ok, exact := integralValue(v)
	if !ok {
		return nil, f.badValue(v, "a record id")
	}
	if !exact {
		return nil, f.outOfRange(v, math.MinInt64, math.MaxInt64)
	}
	return n, nil
}

// integralValue reads v as an integer: an int, an integral float or a
// decimal string. ok is false when v is none of those; exact is false
// when it is one but does not fit in int64 (1e300, "99999999999999999999").
func integralValue(v any) (n int64, ok, exact bool) {
	if n, ok := py.Int(v); ok {
		return n, true, true
	}
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x != math.Trunc(x) {
			return 0, false, false
		}
		// Floats of 2^53 and beyond are integers; int64 ends below 2^63.
		if x < -(1<<63) || x >= 1<<63 {
			return 0, true, false
		}
		return int64(x), true, true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err == nil {
			return n, true, true
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, true, false
		}
	}
	return 0, false, false
}

// outOfRange is the ValidationError for an integral value beyond f's
// column.
func (f *Field) outOfRange(v any, lo, hi int64) error {
	return ValidationErrorf("Invalid value %s for the field '%s' (%s): it must be between %d and %d.", py.Repr(v), f.label(), f.Name, lo, hi)
}

// floatToDB takes a finite number or a numeric string. NaN and ±Inf are
// refused (Odoo stores them): every comparison with NaN is false, so a
// range check written as "v < 1 || v > 10" lets it through to code that
// then divides or multiplies by it (a reconnect factor of NaN made a hot
// reconnect loop), SQLite stores NaN as NULL, and JSON cannot carry them
// back to a client. They arrive as XML-RPC's <double>nan</double>, as a
// JSON number out of range (1e400, which decodes to +Inf), or as a
// string ("nan", "Infinity").
func floatToDB(f *Field, _ Dialect, v any) (any, error) {
	x, ok := py.Float(v)
	if s, isStr := v.(string); isStr {
		var err error
		x, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
		ok = err == nil || errors.Is(err, strconv.ErrRange) && math.IsInf(x, 0)
	}
	if !ok {
		return nil, f.badValue(v, "a number")
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, ValidationErrorf("Invalid value %s for the field '%s' (%s): a number must be finite, not NaN or infinity.",
			py.Repr(v), f.label(), f.Name)
	}
	return x, nil
}

// datetimeToDB takes a datetime string (see parseDatetime) or a time.Time.
func datetimeToDB(f *Field, d Dialect, v any) (any, error) {
	switch x := v.(type) {
	case string:
		t, err := parseDatetime(x)
		if err != nil {
			return nil, ValueErrorf("%s: %v", f.label(), err)
		}
		return d.dbDatetime(t), nil
	case time.Time:
		return d.dbDatetime(x), nil
	}
	return nil, f.badValue(v, "a datetime string")
}

// dateToDB takes a string starting with YYYY-MM-DD; a time part after it
// is ignored.
func dateToDB(f *Field, d Dialect, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, f.badValue(v, "a date string")
	}
	s = strings.TrimSpace(s)
	t, err := time.Parse(DateFormat, s[:min(10, len(s))])
	if err != nil {
		return nil, ValueErrorf("%s: %s is not a date (want YYYY-MM-DD)", f.label(), py.Repr(s))
	}
	return d.dbDate(t), nil
}

// binaryToDB takes base64 text (whitespace ignored) or raw bytes.
func binaryToDB(f *Field, _ Dialect, v any) (any, error) {
	switch x := v.(type) {
	case string:
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(x), ""))
		if err != nil {
			return nil, ValueErrorf("%s: binary values travel as base64 text", f.label())
		}
		return b, nil
	case []byte:
		return x, nil
	}
	return nil, f.badValue(v, "base64 text")
}

// normalizeDB turns what a driver returned for f's column into the
// canonical Go value: int64, float64, bool, string, time.Time, []byte or nil.
func (f *Field) normalizeDB(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		if f.Type == Binary {
			return x
		}
		v = string(x)
	}
	// A switch, not a table like toDB's: this runs for every column of
	// every row scanned, where a map lookup per value would show.
	switch f.Type {
	case Integer, Many2one:
		return integerFromDB(v)
	case Float:
		return floatFromDB(v)
	case Boolean:
		return booleanFromDB(v)
	case Datetime, Date:
		return timeFromDB(v)
	case Binary:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	}
	return v
}

// integerFromDB reads an integer column; other shapes pass unchanged.
func integerFromDB(v any) any {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return v
}

// floatFromDB reads a float column; other shapes pass unchanged. A NaN
// or infinity, which PostgreSQL holds in rows written before floatToDB
// refused them, reads as no value: no RPC dialect's JSON can carry it, so
// one such row would otherwise make every read of its model fail.
func floatFromDB(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		return float64(x)
	case int64:
		return float64(x)
	case string:
		n, _ := strconv.ParseFloat(x, 64)
		return n
	}
	return v
}

// booleanFromDB reads a boolean column: SQLite stores 0/1, text forms
// are "1", "true" or "t"; other shapes pass unchanged.
func booleanFromDB(v any) any {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case string:
		return x == "1" || x == "true" || x == "t"
	}
	return v
}

// timeFromDB reads a date or datetime column as a UTC time.Time; text
// that is not a datetime reads as nil.
func timeFromDB(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case string:
		if t, err := parseDatetime(x); err == nil {
			return t
		}
		return nil
	}
	return v
}

// toRead converts a canonical column value into Odoo's read format for f
// (without relational lookups, which read does in bulk).
func (f *Field) toRead(v any) any {
	switch f.Type {
	case Boolean:
		b, _ := v.(bool)
		return b
	case Integer:
		if v == nil {
			return int64(0)
		}
		return v
	case Float:
		if v == nil {
			return float64(0)
		}
		return v
	}
	if v == nil {
		return false
	}
	switch f.Type {
	case Datetime:
		return v.(time.Time).Format(DatetimeFormat)
	case Date:
		return v.(time.Time).Format(DateFormat)
	case Binary:
		return base64.StdEncoding.EncodeToString(v.([]byte))
	}
	return v
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
