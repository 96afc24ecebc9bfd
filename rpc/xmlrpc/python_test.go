package xmlrpc

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"testing"
	"time"
)

// pythonReader loads every document it is given with Python's
// xmlrpc.client.loads, which is what Odoo's own clients run, and reports
// Python's view of it (json.dumps, so member order is visible) and whether
// Python's Marshaller would re-emit exactly the same bytes.
const pythonReader = `
import base64, json, sys, xmlrpc.client
out = []
for doc in json.load(sys.stdin):
    doc = base64.b64decode(doc)
    r = {}
    try:
        (v,), _ = xmlrpc.client.loads(doc)
        r["view"] = json.dumps(v, ensure_ascii=False)
        again = xmlrpc.client.dumps((v,), methodresponse=True)
    except xmlrpc.client.Fault as f:
        r["view"] = json.dumps({"faultCode": f.faultCode, "faultString": f.faultString}, ensure_ascii=False)
        r["fault"] = True
        again = xmlrpc.client.dumps(f, methodresponse=True)
    except Exception as e:
        r["error"] = repr(e)
        again = ""
    r["same"] = again.encode("utf-8") == doc
    out.append(r)
sys.stdout.buffer.write(json.dumps(out).encode("utf-8"))
`

type pythonView struct {
	View  string `json:"view"`
	Fault bool   `json:"fault"`
	Error string `json:"error"`
	Same  bool   `json:"same"`
}

// readWithPython runs all documents through one python3 process.
func readWithPython(t *testing.T, docs [][]byte) []pythonView {
	t.Helper()
	python := requirePython(t)
	in, err := json.Marshal(docs) // []byte marshals as base64
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", pythonReader)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var views []pythonView
	if err := json.Unmarshal(out, &views); err != nil {
		t.Fatalf("python3 output: %v\n%s", err, out)
	}
	if len(views) != len(docs) {
		t.Fatalf("python3 returned %d results for %d documents", len(views), len(docs))
	}
	return views
}

// TestEncodeResponsePython checks that Python's xmlrpc.client reads each
// response as the value Odoo would have sent, and, where we do not
// deliberately differ (CR), that Python would have written the same bytes.
func TestEncodeResponsePython(t *testing.T) {
	type tag string
	fieldsGet := orderedDict{
		keys: []string{"name", "active", "id"},
		vals: []any{
			orderedDict{[]string{"type", "string", "required"}, []any{"char", "Name", true}},
			orderedDict{[]string{"type", "string"}, []any{"boolean", "Active"}},
			orderedDict{[]string{"type", "string", "readonly"}, []any{"integer", "ID", true}},
		},
	}
	written := time.Date(2024, 1, 31, 23, 59, 1, 0, time.UTC)
	tests := []struct {
		name     string
		v        any
		want     string // json.dumps of Python's value
		bytesDif bool   // Python would write different (but equivalent) bytes
	}{
		{"int", 7, `7`, false},
		{"false", false, `false`, false},
		{"int32 bounds", []int64{math.MaxInt32, math.MinInt32}, `[2147483647, -2147483648]`, false},
		{"big ints become floats", []any{int64(math.MaxInt32) + 1, int64(-1 << 40), uint64(math.MaxUint64), int64(1<<53 + 1)},
			`[2147483648.0, -1099511627776.0, 1.8446744073709552e+19, 9007199254740992.0]`, false},
		{"floats", []any{0.1, 1e16, 1e-5, math.Copysign(0, -1), float32(0.1), 123456789.125, 5e-324},
			`[0.1, 1e+16, 1e-05, -0.0, 0.1, 123456789.125, 5e-324]`, false},
		{"nan and inf", []float64{math.NaN(), math.Inf(1), math.Inf(-1)}, `[NaN, Infinity, -Infinity]`, false},
		{"special chars", "a&b <c> >d \"e\" 'f' Liège 🚀", `"a&b <c> >d \"e\" 'f' Liège 🚀"`, false},
		{"empty string", "", `""`, false},
		{"control chars stripped", "a\x00b\x01c\x1fd\x7fe\tf\ng", `"abcd` + "\x7f" + `e\tf\ng"`, false},
		{"CR preserved", "a\rb\r\nc", `"a\rb\r\nc"`, true},
		{"invalid UTF-8 and non-characters", "ok\xffok\uFFFE\uFFFF", `"ok` + "\uFFFD" + `ok"`, false},
		{"bytes", []byte("aGVsbG8="), `"aGVsbG8="`, false},
		{"time", time.Date(2024, 2, 1, 0, 59, 1, 5e8, time.FixedZone("CET", 3600)), `"2024-01-31 23:59:01"`, false},
		{"typed slices", []any{[]string{}, []string(nil), [][]any{{int64(1), "a"}}, [2]int{1, 2}, []tag{"x"}},
			`[[], [], [[1, "a"]], [1, 2], ["x"]]`, false},
		{"sorted map", map[string]any{"b": 1, "a": []any{false, "x"}, "c": map[string]any{}}, `{"a": [false, "x"], "b": 1, "c": {}}`, false},
		{"typed map", map[tag]int{"z": 1, "y": 2}, `{"y": 2, "z": 1}`, false},
		{"keys escaped and cleaned", map[string]any{"k<&>": 1, "ctl\x01": 2}, `{"ctl": 2, "k<&>": 1}`, false},
		{"ordered fields_get", fieldsGet,
			`{"name": {"type": "char", "string": "Name", "required": true}, "active": {"type": "boolean", "string": "Active"}, "id": {"type": "integer", "string": "ID", "readonly": true}}`, false},
		{"search_read records", []map[string]any{
			{"id": 1, "name": "Alice & Bob", "partner_id": []any{3, "Bob"}, "write_date": written, "parent_id": false, "tag_ids": []int{}},
			{"id": int64(5_000_000_000), "name": "Zoë", "partner_id": false, "write_date": &written, "parent_id": []any{1, "Alice"}, "tag_ids": []int{4, 5}},
		}, `[{"id": 1, "name": "Alice & Bob", "parent_id": false, "partner_id": [3, "Bob"], "tag_ids": [], "write_date": "2024-01-31 23:59:01"}, ` +
			`{"id": 5000000000.0, "name": "Zoë", "parent_id": [1, "Alice"], "partner_id": false, "tag_ids": [4, 5], "write_date": "2024-01-31 23:59:01"}]`, false},
		{"deep nesting", nestedEmpty(60), string(bytes.Repeat([]byte("["), 60)) + string(bytes.Repeat([]byte("]"), 60)), false},
	}
	docs := make([][]byte, len(tests))
	for i, tt := range tests {
		doc, err := EncodeResponse(tt.v)
		if err != nil {
			t.Fatalf("%s: EncodeResponse: %v", tt.name, err)
		}
		docs[i] = doc
	}
	views := readWithPython(t, docs)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := views[i]
			if got.Error != "" || got.Fault {
				t.Fatalf("Python could not read the response: %s %s\n%s", got.Error, got.View, docs[i])
			}
			if got.View != tt.want {
				t.Errorf("Python read\n%s\nwant\n%s", got.View, tt.want)
			}
			if got.Same == tt.bytesDif {
				t.Errorf("Python's Marshaller writes identical bytes = %v, want %v\n%s", got.Same, !tt.bytesDif, docs[i])
			}
		})
	}
}

// TestEncodeFaultPython checks that Python raises xmlrpc.client.Fault with
// the code and string we meant, for both endpoint flavours.
func TestEncodeFaultPython(t *testing.T) {
	tests := []struct {
		name     string
		code     any
		msg      string
		want     string
		bytesDif bool
	}{
		{"access denied", 3, "Access Denied", `{"faultCode": 3, "faultString": "Access Denied"}`, false},
		{"user error", 2, "Le champ « Nom » est requis & <vide>", `{"faultCode": 2, "faultString": "Le champ « Nom » est requis & <vide>"}`, false},
		{"traceback", int64(1), "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad\x00 value",
			`{"faultCode": 1, "faultString": "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad value"}`, false},
		{"CR in message", 1, "a\r\nb", `{"faultCode": 1, "faultString": "a\r\nb"}`, true},
		{"legacy string code", "warning -- UserError\n\nNot allowed", "", `{"faultCode": "warning -- UserError\n\nNot allowed", "faultString": ""}`, false},
		{"legacy AccessDenied", "AccessDenied", "Access Denied", `{"faultCode": "AccessDenied", "faultString": "Access Denied"}`, false},
	}
	docs := make([][]byte, len(tests))
	for i, tt := range tests {
		docs[i] = EncodeFault(tt.code, tt.msg)
	}
	views := readWithPython(t, docs)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := views[i]
			if !got.Fault {
				t.Fatalf("Python did not raise Fault: %s %s\n%s", got.Error, got.View, docs[i])
			}
			if got.View != tt.want {
				t.Errorf("Python read\n%s\nwant\n%s", got.View, tt.want)
			}
			if got.Same == tt.bytesDif {
				t.Errorf("Python's Marshaller writes identical bytes = %v, want %v\n%s", got.Same, !tt.bytesDif, docs[i])
			}
		})
	}
}
