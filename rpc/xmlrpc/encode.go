package xmlrpc

import (
	"fmt"
	"reflect"
	"slices"
	"time"
)

// maxEncodeDepth bounds nesting on the way out. Real results are shallow;
// the bound turns a cyclic value (a list containing itself) into an error
// instead of a stack overflow, as Python's "cannot marshal recursive" does.
const maxEncodeDepth = 256

// odooDatetime is Odoo's DATETIME_FORMAT: how every datetime leaves Odoo.
const odooDatetime = "2006-01-02 15:04:05"

// The envelope around a result, byte for byte what Python's
// xmlrpc.client.dumps((v,), methodresponse=True) writes.
const (
	responseHead = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
	responseTail = "</param>\n</params>\n</methodResponse>\n"
)

// Ranger is implemented by values that must reach the client as a struct
// whose members keep a given order, such as the ordered dicts fields_get
// returns. Range calls yield for each pair in order and stops early when
// yield returns false.
type Ranger interface {
	Range(yield func(key string, value any) bool)
}

// EncodeResponse returns a complete <methodResponse> document for v.
//
// Supported: bool, every int and uint kind, float32/64, string, []byte,
// time.Time, slices and arrays, maps with string keys, Ranger, and pointers
// to these. nil anywhere (nil interface or nil pointer) fails with an error
// wrapping ErrNil; nil slices and maps are encoded as empty. Other types,
// and maps with non-string keys, fail with an error wrapping ErrUnsupported.
// Errors name the path to the bad value, e.g. `(at result[3]["name"])`.
func EncodeResponse(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 1024)}
	e.buf = append(e.buf, responseHead...)
	if err := e.value(v, 0); err != nil {
		return nil, err
	}
	e.buf = append(e.buf, responseTail...)
	return e.buf, nil
}

// encoder appends to one buffer; every value it writes is a complete
// <value>...</value> line, exactly as Python's Marshaller lays it out.
type encoder struct {
	buf  []byte
	keys []string // stack of sorted map keys, shared by nested dicts
}

// value writes v. The type switch covers what results are made of without
// reflection; everything else goes through reflectValue.
func (e *encoder) value(v any, depth int) error {
	switch x := v.(type) {
	case nil:
		return &encodeError{err: ErrNil}
	case string:
		e.str(x)
	case bool:
		e.boolean(x)
	case int:
		e.int(int64(x))
	case int64:
		e.int(x)
	case int32:
		e.int(int64(x))
	case float64:
		e.double(x, 64)
	case []any:
		return e.list(x, depth)
	case map[string]any:
		return e.dict(x, depth)
	case []byte:
		// Odoo's dump_bytes: binary fields are base64 text already, so
		// the bytes go out as the string they spell.
		e.str(string(x))
	case time.Time:
		// Digits and punctuation only: no escaping needed.
		e.buf = append(e.buf, "<value><string>"...)
		e.buf = x.UTC().AppendFormat(e.buf, odooDatetime)
		e.buf = append(e.buf, "</string></value>\n"...)
	case Ranger:
		// A nil *T whose method set includes Range is still nil.
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return &encodeError{err: ErrNil}
		}
		return e.ranger(x, depth)
	default:
		return e.reflectValue(reflect.ValueOf(v), depth)
	}
	return nil
}

func (e *encoder) list(l []any, depth int) error {
	if depth >= maxEncodeDepth {
		return tooDeep()
	}
	e.buf = append(e.buf, "<value><array><data>\n"...)
	for i, v := range l {
		if err := e.value(v, depth+1); err != nil {
			return atIndex(err, i)
		}
	}
	e.buf = append(e.buf, "</data></array></value>\n"...)
	return nil
}

// dict writes a map as a struct with sorted keys: Go maps have no order and
// a stable output keeps responses diffable and cacheable.
func (e *encoder) dict(m map[string]any, depth int) error {
	if depth >= maxEncodeDepth {
		return tooDeep()
	}
	// The keys of this map sit on top of e.keys while its values are
	// written; nested dicts push above them and pop back, so one slice
	// serves a whole response instead of one allocation per record.
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[start:]
	slices.Sort(keys)
	e.buf = append(e.buf, "<value><struct>\n"...)
	for _, k := range keys {
		e.memberName(k)
		if err := e.value(m[k], depth+1); err != nil {
			return atKey(err, k)
		}
		e.buf = append(e.buf, "</member>\n"...)
	}
	e.buf = append(e.buf, "</struct></value>\n"...)
	e.keys = e.keys[:start]
	return nil
}

// ranger writes members in the order the value yields them.
func (e *encoder) ranger(r Ranger, depth int) error {
	if depth >= maxEncodeDepth {
		return tooDeep()
	}
	var err error
	e.buf = append(e.buf, "<value><struct>\n"...)
	r.Range(func(k string, v any) bool {
		e.memberName(k)
		if err = e.value(v, depth+1); err != nil {
			err = atKey(err, k)
			return false
		}
		e.buf = append(e.buf, "</member>\n"...)
		return true
	})
	if err != nil {
		return err
	}
	e.buf = append(e.buf, "</struct></value>\n"...)
	return nil
}

func tooDeep() error {
	return &encodeError{err: fmt.Errorf("%w values nested deeper than %d levels (recursive value?)", ErrUnsupported, maxEncodeDepth)}
}
