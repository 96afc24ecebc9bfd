package xmlrpc

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// call wraps value XML in a one-parameter methodCall.
func call(values ...string) string {
	var b strings.Builder
	b.WriteString("<methodCall><methodName>m</methodName><params>")
	for _, v := range values {
		b.WriteString("<param>" + v + "</param>")
	}
	b.WriteString("</params></methodCall>")
	return b.String()
}

// TestDecodeOdd covers what clients other than Python send, and the cases
// where kolo/xmlrpc loses data.
func TestDecodeOdd(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantMethod string
		want       []any
	}{
		{"untyped value kept verbatim", call("<value>  two words\n</value>"), "m", []any{"  two words\n"}},
		{"untyped entities", call("<value>a &amp; &lt;b&gt; &#233;</value>"), "m", []any{"a & <b> é"}},
		{"empty value", call("<value/>", "<value></value>"), "m", []any{"", ""}},
		{"empty string element", call("<value><string></string></value>", "<value><string/></value>"), "m", []any{"", ""}},
		{"string keeps spaces", call("<value><string> x </string></value>"), "m", []any{" x "}},
		{"empty value mid array keeps siblings",
			call("<value><array><data><value><int>1</int></value><value/><value><int>3</int></value></data></array></value>"),
			"m", []any{[]any{int64(1), "", int64(3)}}},
		{"empty value mid struct keeps siblings",
			call("<value><struct><member><name>a</name><value/></member><member><name>b</name><value><int>2</int></value></member></struct></value>"),
			"m", []any{map[string]any{"a": "", "b": int64(2)}}},
		{"nil and namespaced nil",
			call("<value><nil/></value>", `<value><ex:nil xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"/></value>`, "<value><ex:nil/></value>"),
			"m", []any{nil, nil, nil}},
		{"integer family",
			call("<value><i1>-5</i1></value>", "<value><i2>300</i2></value>", "<value><i4> 7 </i4></value>",
				"<value><i8>9007199254740993</i8></value>", "<value><biginteger>-9223372036854775808</biginteger></value>", "<value><int>+4</int></value>"),
			"m", []any{int64(-5), int64(300), int64(7), int64(9007199254740993), int64(-9223372036854775808), int64(4)}},
		{"booleans", call("<value><boolean>1</boolean></value>", "<value><boolean>0</boolean></value>",
			"<value><boolean>true</boolean></value>", "<value><boolean> false </boolean></value>"),
			"m", []any{true, false, true, false}},
		{"doubles", call("<value><double>0.25</double></value>", "<value><float>-1e3</float></value>", "<value><double>1e999</double></value>"),
			"m", []any{0.25, -1000.0, inf(1)}},
		{"dateTime both forms", call("<value><dateTime.iso8601>20240131T23:59:01</dateTime.iso8601></value>",
			"<value><dateTime.iso8601> 2024-01-31T23:59:01 </dateTime.iso8601></value>"),
			"m", []any{"2024-01-31 23:59:01", "2024-01-31 23:59:01"}},
		{"base64 with line breaks", call("<value><base64>\naGVs\nbG8g\r\nd29y bGQ=\n</base64></value>", "<value><base64/></value>"),
			"m", []any{"aGVsbG8gd29ybGQ=", ""}},
		{"empty containers", call("<value><array><data/></array></value>", "<value><array/></value>", "<value><struct/></value>"),
			"m", []any{[]any{}, []any{}, map[string]any{}}},
		{"duplicate member keeps last", call("<value><struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct></value>"),
			"m", []any{map[string]any{"a": "2"}}},
		{"no params", "<methodCall><methodName>version</methodName></methodCall>", "version", []any{}},
		{"empty params", "<methodCall><methodName>version</methodName><params/></methodCall>", "version", []any{}},
		{"params before name", "<methodCall><params><param><value>x</value></param></params><methodName>m</methodName></methodCall>", "m", []any{"x"}},
		{"method name trimmed", "<methodCall><methodName>\n  execute_kw\n</methodName></methodCall>", "execute_kw", []any{}},
		{"comments, PIs, CDATA and BOM",
			"\ufeff<?xml version=\"1.0\"?><!-- c --><methodCall><?pi x?><methodName>m</methodName><params><param><!-- c --><value><string>a<!-- c -->b<![CDATA[<&>]]></string></value></param></params></methodCall><!-- end -->\n",
			"m", []any{"ab<&>"}},
		{"latin-1 body", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>caf\xe9</methodName><params><param><value>\xe0</value></param></params></methodCall>",
			"café", []any{"à"}},
		{"character reference CR survives", call("<value><string>a&#13;b\r\nc</string></value>"), "m", []any{"a\rb\nc"}},
		{"depth limit reached exactly",
			call(strings.Repeat("<value><array><data>", maxDepth) + strings.Repeat("</data></array></value>", maxDepth)),
			"m", []any{nestedEmpty(maxDepth)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, params, err := DecodeCall(strings.NewReader(tt.body))
			if err != nil {
				t.Fatalf("DecodeCall: %v", err)
			}
			if method != tt.wantMethod {
				t.Errorf("method = %q, want %q", method, tt.wantMethod)
			}
			if !equalValues(params, tt.want) {
				t.Errorf("params = %s, want %s", show(params), show(tt.want))
			}
		})
	}
}

// nestedEmpty returns n arrays nested in each other, the innermost empty.
func nestedEmpty(n int) any {
	var v any = []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

// TestDecodeMalformed checks that each bad document is refused with an
// error wrapping ErrMalformed whose text says what is wrong.
func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{"empty body", "", "unexpected end of document"},
		{"not xml", "hello", "unexpected text"},
		{"wrong root", "<methodResponse/>", "root element is <methodResponse>"},
		{"missing methodName", "<methodCall><params/></methodCall>", "missing <methodName>"},
		{"empty methodName", "<methodCall><methodName> </methodName></methodCall>", "empty <methodName>"},
		{"two methodNames", "<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>", "more than one <methodName>"},
		{"element in methodName", "<methodCall><methodName><b/></methodName></methodCall>", "unexpected element <b> in methodName"},
		{"unknown element in value", call("<value><foo/></value>"), "unexpected element <foo> in value"},
		{"unknown element in methodCall", "<methodCall><methodName>m</methodName><foo/></methodCall>", "unexpected element <foo> in methodCall"},
		{"unknown element in params", "<methodCall><methodName>m</methodName><params><value/></params></methodCall>", "unexpected element <value> in params"},
		{"param without value", call(""), "<param> without <value>"},
		{"param with two values", call("<value/><value/>"), "more than one <value> in param"},
		{"text garbage in params", "<methodCall><methodName>m</methodName><params>junk</params></methodCall>", `unexpected text "junk" in params`},
		{"text around typed value", call("<value>x<int>1</int></value>"), `unexpected text "x" before <int>`},
		{"two typed values", call("<value><int>1</int><int>2</int></value>"), "unexpected element <int> after <int>"},
		{"text after typed value", call("<value><int>1</int>x</value>"), `unexpected text "x" in value`},
		{"element in int", call("<value><int><b/></int></value>"), "unexpected element <b> in int"},
		{"bad int", call("<value><int>1.5</int></value>"), `invalid <int> value "1.5"`},
		{"empty int", call("<value><int/></value>"), `invalid <int> value ""`},
		{"int out of range", call("<value><i8>9223372036854775808</i8></value>"), "out of int64 range"},
		{"biginteger out of range", call("<value><biginteger>123456789012345678901234567890</biginteger></value>"), "out of int64 range"},
		{"bad boolean", call("<value><boolean>2</boolean></value>"), "invalid <boolean>"},
		{"bad double", call("<value><double>abc</double></value>"), "invalid <double>"},
		{"bad dateTime", call("<value><dateTime.iso8601>2024-13-01T00:00:00</dateTime.iso8601></value>"), "invalid <dateTime.iso8601>"},
		{"bad base64", call("<value><base64>a$b=</base64></value>"), "invalid <base64>"},
		{"text in nil", call("<value><nil>x</nil></value>"), "unexpected text"},
		{"member without value", call("<value><struct><member><name>a</name></member></struct></value>"), `member "a" has no <value>`},
		{"member without name", call("<value><struct><member><value>1</value></member></struct></value>"), "unexpected element <value> in member"},
		{"member value before name", call("<value><struct><member><value>1</value><name>a</name></member></struct></value>"), "unexpected element <value> in member"},
		{"value directly in struct", call("<value><struct><value>1</value></struct></value>"), "unexpected element <value> in struct"},
		{"value directly in array", call("<value><array><value>1</value></array></value>"), "unexpected element <value> in array"},
		{"two data", call("<value><array><data/><data/></array></value>"), "more than one <data>"},
		{"truncated", call("<value><array><data><value><int>1</int></value>")[:60], "unexpected EOF"},
		{"truncated after root start", "<methodCall>", "unexpected EOF"},
		{"mismatched tags", "<methodCall><methodName>m</methodCall>", "closed by"},
		{"two roots", "<methodCall><methodName>m</methodName></methodCall><methodCall/>", "content after </methodCall>"},
		{"trailing text", "<methodCall><methodName>m</methodName></methodCall>junk", "unexpected text"},
		{"doctype", "<!DOCTYPE methodCall><methodCall><methodName>m</methodName></methodCall>", "unexpected directive"},
		{"entity", "<methodCall><methodName>&foo;</methodName></methodCall>", "invalid character entity"},
		{"control character", call("<value>\x01</value>"), "illegal character"},
		{"control character reference", call("<value>&#1;</value>"), "illegal character"},
		{"invalid utf-8", call("<value>\xff</value>"), "invalid UTF-8"},
		{"late xml declaration", "<methodCall><?xml version='1.0'?><methodName>m</methodName></methodCall>", "XML declaration not at start"},
		{"unsupported encoding", `<?xml version="1.0" encoding="EBCDIC"?><methodCall/>`, "unsupported encoding"},
		{"too deep", call(strings.Repeat("<value><array><data>", maxDepth+1) + strings.Repeat("</data></array></value>", maxDepth+1)), "nested deeper than 100"},
		{"too deep structs", call(strings.Repeat("<value><struct><member><name>a</name>", 500)), "nested deeper than 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, params, err := DecodeCall(strings.NewReader(tt.body))
			if err == nil {
				t.Fatalf("DecodeCall succeeded with %q %s, want error containing %q", method, show(params), tt.wantErr)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %q does not wrap ErrMalformed", err)
			}
			if !strings.HasPrefix(err.Error(), "xmlrpc: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if method != "" || params != nil {
				t.Errorf("got %q %s along with an error", method, show(params))
			}
		})
	}
}

// TestDecodeReaderError checks that a failing body is reported as such and
// not as a malformed document, so the caller can still see, e.g., that
// http.MaxBytesReader cut it.
func TestDecodeReaderError(t *testing.T) {
	cut := errors.New("body too large")
	body := io.MultiReader(strings.NewReader("<methodCall><methodName>m</meth"), errReader{cut})
	_, _, err := DecodeCall(body)
	if !errors.Is(err, cut) {
		t.Fatalf("error = %v, want it to wrap %v", err, cut)
	}
	if errors.Is(err, ErrMalformed) {
		t.Errorf("reader error %q reported as ErrMalformed", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
