package xmlrpc

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestEncodeShape pins the exact documents of odoo-rpc.md §1.6 and §1.7.
func TestEncodeShape(t *testing.T) {
	got, err := EncodeResponse(7)
	if err != nil {
		t.Fatal(err)
	}
	want := "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>7</int></value>\n</param>\n</params>\n</methodResponse>\n"
	if string(got) != want {
		t.Errorf("EncodeResponse(7) =\n%s\nwant\n%s", got, want)
	}

	fault := EncodeFault(3, "Access Denied")
	wantFault := `<?xml version='1.0'?>
<methodResponse>
<fault>
<value><struct>
<member>
<name>faultCode</name>
<value><int>3</int></value>
</member>
<member>
<name>faultString</name>
<value><string>Access Denied</string></value>
</member>
</struct></value>
</fault>
</methodResponse>
`
	if string(fault) != wantFault {
		t.Errorf("EncodeFault(3, ...) =\n%s\nwant\n%s", fault, wantFault)
	}
}

// TestEncodeValues checks the value markup itself; Python's reading of the
// same rules is checked in TestEncodeResponsePython.
func TestEncodeValues(t *testing.T) {
	type code string
	n := 5
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"true", true, "<value><boolean>1</boolean></value>\n"},
		{"false", false, "<value><boolean>0</boolean></value>\n"},
		{"int32 max", int64(math.MaxInt32), "<value><int>2147483647</int></value>\n"},
		{"int32 min", int32(math.MinInt32), "<value><int>-2147483648</int></value>\n"},
		{"beyond int32", int64(math.MaxInt32) + 1, "<value><double>2147483648.0</double></value>\n"},
		{"uint beyond int32", uint32(math.MaxUint32), "<value><double>4294967295.0</double></value>\n"},
		{"uint8", uint8(200), "<value><int>200</int></value>\n"},
		{"named int", time.Duration(3), "<value><int>3</int></value>\n"},
		{"float32", float32(0.1), "<value><double>0.1</double></value>\n"},
		{"escaped string", "a&b <c> \"d\"", "<value><string>a&amp;b &lt;c&gt; \"d\"</string></value>\n"},
		{"control chars stripped", "a\x00b\x08c\x0bd\x1fe\tf\ng", "<value><string>abcde\tf\ng</string></value>\n"},
		{"CR kept as reference", "a\r\nb", "<value><string>a&#13;\nb</string></value>\n"},
		{"invalid UTF-8 replaced", "a\xffb\xc3", "<value><string>a\uFFFDb\uFFFD</string></value>\n"},
		{"non-characters stripped", "a\uFFFEb\uFFFFc\uFFFD", "<value><string>abc\uFFFD</string></value>\n"},
		{"bytes", []byte("aGk=\x01"), "<value><string>aGk=</string></value>\n"},
		{"named string", code("x<y"), "<value><string>x&lt;y</string></value>\n"},
		{"time in UTC", time.Date(2024, 2, 1, 1, 59, 1, 999, time.FixedZone("CET", 2*3600)), "<value><string>2024-01-31 23:59:01</string></value>\n"},
		{"pointer", &n, "<value><int>5</int></value>\n"},
		{"empty list", []any{}, "<value><array><data>\n</data></array></value>\n"},
		{"nil slice is empty list", []string(nil), "<value><array><data>\n</data></array></value>\n"},
		{"typed slice", []int64{1, 2}, "<value><array><data>\n<value><int>1</int></value>\n<value><int>2</int></value>\n</data></array></value>\n"},
		{"array", [2]bool{true, false}, "<value><array><data>\n<value><boolean>1</boolean></value>\n<value><boolean>0</boolean></value>\n</data></array></value>\n"},
		{"empty map", map[string]any{}, "<value><struct>\n</struct></value>\n"},
		{"nil map is empty struct", map[string]int(nil), "<value><struct>\n</struct></value>\n"},
		{"sorted escaped keys", map[string]any{"b": 1, "a<&>\x01": "x"},
			"<value><struct>\n<member>\n<name>a&lt;&amp;&gt;</name>\n<value><string>x</string></value>\n</member>\n" +
				"<member>\n<name>b</name>\n<value><int>1</int></value>\n</member>\n</struct></value>\n"},
		{"ranger keeps order", orderedDict{[]string{"z", "a"}, []any{1, 2}},
			"<value><struct>\n<member>\n<name>z</name>\n<value><int>1</int></value>\n</member>\n" +
				"<member>\n<name>a</name>\n<value><int>2</int></value>\n</member>\n</struct></value>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeResponse(tt.v)
			if err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			body := strings.TrimSuffix(strings.TrimPrefix(string(got), responseHead), responseTail)
			if body != tt.want {
				t.Errorf("got\n%q\nwant\n%q", body, tt.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	var nilPtr *int
	var nilRanger *orderedDictPtr
	cyclic := []any{nil}
	cyclic[0] = cyclic
	tests := []struct {
		name     string
		v        any
		sentinel error
		wantMsg  string
	}{
		{"nil", nil, ErrNil, "xmlrpc: cannot marshal None unless allow_none is enabled"},
		{"nested nil", []any{1, map[string]any{"partner_id": nil}}, ErrNil,
			`xmlrpc: cannot marshal None unless allow_none is enabled (at result[1]["partner_id"])`},
		{"nil pointer", []any{nilPtr}, ErrNil, "(at result[0])"},
		{"nil Ranger pointer", nilRanger, ErrNil, "cannot marshal None"},
		{"nil in typed slice", []error{nil}, ErrNil, "(at result[0])"},
		{"nil in ranger", orderedDict{[]string{"a"}, []any{nil}}, ErrNil, `(at result["a"])`},
		{"int keys", map[int]string{1: "a"}, ErrUnsupported, "dictionary key must be string"},
		{"channel", map[string]any{"c": make(chan int)}, ErrUnsupported, `xmlrpc: cannot marshal chan int objects (at result["c"])`},
		{"struct", struct{ A int }{1}, ErrUnsupported, "cannot marshal struct { A int } objects"},
		{"complex", complex(1, 2), ErrUnsupported, "complex128"},
		{"func", func() {}, ErrUnsupported, "func()"},
		{"cycle", cyclic, ErrUnsupported, "nested deeper than 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeResponse(tt.v)
			if err == nil {
				t.Fatalf("EncodeResponse succeeded:\n%s", got)
			}
			if got != nil {
				t.Errorf("partial output returned with error: %q", got)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

// orderedDictPtr implements Ranger on a pointer receiver, to check that a
// nil one is reported as nil instead of crashing.
type orderedDictPtr struct{ orderedDict }

func (d *orderedDictPtr) Range(yield func(string, any) bool) { d.orderedDict.Range(yield) }

// TestAppendPythonFloat compares with repr() results recorded from CPython.
func TestAppendPythonFloat(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {3.0, "3.0"}, {0.1, "0.1"}, {-2.5, "-2.5"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {9999999999999998, "9999999999999998.0"},
		{123456789012345678, "1.2345678901234568e+17"}, {0.0001, "0.0001"}, {0.00001, "1e-05"},
		{1.5e-7, "1.5e-07"}, {1e300, "1e+300"}, {5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{2147483648, "2147483648.0"}, {3.141592653589793, "3.141592653589793"}, {123.456, "123.456"},
		{math.NaN(), "nan"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	}
	for _, tt := range tests {
		if got := string(appendPythonFloat(nil, tt.f, 64)); got != tt.want {
			t.Errorf("appendPythonFloat(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestEncodeFaultCodes(t *testing.T) {
	type faultKind int
	tests := []struct {
		name string
		code any
		want string
	}{
		{"int", 1, "<value><int>1</int></value>"},
		{"named int", faultKind(4), "<value><int>4</int></value>"},
		{"string", "warning -- UserError\n\nNo & <way>", "<value><string>warning -- UserError\n\nNo &amp; &lt;way&gt;</string></value>"},
		{"other type", 2.5, "<value><string>2.5</string></value>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(EncodeFault(tt.code, "msg"))
			if !strings.Contains(got, "<name>faultCode</name>\n"+tt.want+"\n</member>") {
				t.Errorf("fault =\n%s\nwant faultCode %s", got, tt.want)
			}
		})
	}
}
