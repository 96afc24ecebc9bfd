package xmlrpc

import (
	"fmt"
	"reflect"
	"strconv"
)

// The fixed parts of a fault document, laid out as Python's
// xmlrpc.client.dumps(Fault(...)) writes them (odoo-rpc.md §1.7).
const (
	faultHead = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n" +
		"<member>\n<name>faultCode</name>\n"
	faultMiddle = "</member>\n<member>\n<name>faultString</name>\n"
	faultTail   = "</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
)

// EncodeFault returns a <methodResponse><fault> document. code is an int
// (faultCode <int>, /xmlrpc/2) or a string (legacy /xmlrpc/ string
// faultCode). Any integer kind is written as <int> unchanged; another type
// is written as the string fmt.Sprint gives, so a fault can always be sent.
// message is cleaned like any string (see EncodeResponse).
func EncodeFault(code any, message string) []byte {
	e := encoder{buf: make([]byte, 0, len(faultHead)+len(faultMiddle)+len(faultTail)+len(message)+64)}
	e.buf = append(e.buf, faultHead...)
	if s, ok := code.(string); ok {
		e.str(s)
	} else if n, ok := integerText(code); ok {
		// Not range-checked like results: Python's Fault takes any int.
		e.buf = append(e.buf, "<value><int>"...)
		e.buf = append(e.buf, n...)
		e.buf = append(e.buf, "</int></value>\n"...)
	} else {
		e.str(fmt.Sprint(code))
	}
	e.buf = append(e.buf, faultMiddle...)
	e.str(message)
	e.buf = append(e.buf, faultTail...)
	return e.buf
}

// integerText formats code if it is of any integer kind.
func integerText(code any) (string, bool) {
	rv := reflect.ValueOf(code)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	}
	return "", false
}
