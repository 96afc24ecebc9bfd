package rules

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonpath"
)

// TestExtract picks values out of payloads by path.
func TestExtract(t *testing.T) {
	doc := `{"a": {"b": [{"c": 1.5}, {"c": "x"}]}, "sensors": [{"value": 21}], "k.e": true, "n": null}`
	cases := []struct {
		path, payload string
		text          string
		num           bool
		ok            bool
	}{
		{"", " 12.5 \n", "12.5", true, true},
		{"", "hot", "hot", false, true},
		{"a.b[0].c", doc, "1.5", true, true},
		{"a.b[1].c", doc, "x", false, true},
		{"$.sensors[0].value", doc, "21", true, true},
		{"$.n", doc, "null", false, true},
		{"a.b", doc, `[{"c":1.5},{"c":"x"}]`, false, true},
		{"a.b[2].c", doc, "", false, false},
		{"a.x", doc, "", false, false},
		{"a.b.c", doc, "", false, false},
		{"a", "not json", "", false, false},
		{"$[1]", `[10, 20]`, "20", true, true},
		{"$", `7`, "7", true, true},
		{"x", `{"x": "NaN"}`, "NaN", false, true},
	}
	for _, c := range cases {
		p, err := parsePath(c.path)
		if err != nil {
			t.Fatalf("%q: %v", c.path, err)
		}
		v, ok := extract(p, []byte(c.payload))
		if ok != c.ok || ok && (v.text != c.text || v.isNum != c.num) {
			t.Errorf("%q in %s: %+v %v, want %q number %v ok %v", c.path, c.payload, v, ok, c.text, c.num, c.ok)
		}
	}
}

// TestParsePathErrors refuses malformed paths.
func TestParsePathErrors(t *testing.T) {
	for _, p := range []string{"a..b", ".a", "a.", "a[", "a[-1]", "a[x]", "a]", "$x", "a[0]b", "a[0]."} {
		if _, err := parsePath(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

// TestAsFilter turns topic templates into the filters loop protection
// compares.
func TestAsFilter(t *testing.T) {
	for tmpl, want := range map[string]string{
		"a/{1}/b":       "a/+/b",
		"a/x{device}/c": "a/+/c",
		"{topic}/ack":   "#",
		"a/{value}/c":   "a/#",
		"plain/topic":   "plain/topic",
	} {
		if got := asFilter(tmpl); got != want {
			t.Errorf("asFilter(%q) = %q, want %q", tmpl, got, want)
		}
	}
}

// TestScanMatchesDecode: the scanner finds what decoding the document
// and walking it finds, on documents with escapes, nesting, spaces and
// look-alike keys.
func TestScanMatchesDecode(t *testing.T) {
	docs := []string{
		`{"a": {"b": [{"c": 1.5}, {"c": "x"}]}, "sensors": [{"value": 21}], "k.e": true, "n": null}`,
		` { "a\"q" : "v\"1" , "e\u0073c": 5, "a" : { "b" : [ 1 , [2, 3] , {"c": {"d": "}]"}} ] } } `,
		`{"x": "{\"a\": 1}", "a": [{"b": {"c": [10, 20, 30]}}], "u\u00e9": "é", "ué": 2}`,
		`[{"v": 1}, {"v": [true, false, null]}, "s", 12e3, -0.5]`,
		`{"dup": 1, "dup": 2}`,
		`"just text"`,
		`42`,
	}
	paths := []string{"a", "a.b", "a.b[0]", "a.b[1]", "a.b[1][0]", "a.b[2].c.d", "a.b[0].c", "a.b[1].c", "sensors[0].value",
		"k.e", "n", "x", "a[0].b.c[2]", "ué", `a"q`, "esc", "$[0].v", "$[1].v[2]", "$[2]", "$[3]", "$[4]", "$[5]", "$", "dup", "missing", "a.b[9]"}
	for _, d := range docs {
		var decoded any
		dec := json.NewDecoder(strings.NewReader(d))
		dec.UseNumber()
		if err := dec.Decode(&decoded); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		for _, ps := range paths {
			p, err := parsePath(ps)
			if err != nil {
				continue // not a path this test needs
			}
			got, gotOK := extract(p, []byte(d))
			want, wantOK := p.Get(decoded)
			if gotOK != wantOK {
				t.Errorf("%s in %s: found %v, decoding found %v", ps, d, gotOK, wantOK)
				continue
			}
			if !gotOK {
				continue
			}
			var wantText string
			switch w := want.(type) {
			case string:
				wantText = w
			case json.Number:
				wantText = w.String()
			case nil:
				wantText = "null"
			case bool:
				wantText = strconv.FormatBool(w)
			default:
				continue // objects and arrays: compacted text, in the document's key order
			}
			if got.text != wantText {
				t.Errorf("%s in %s: %q, decoding gives %q", ps, d, got.text, wantText)
			}
		}
	}
	if _, ok := extract(&jsonPath{Raw: "a", Steps: []jsonpath.Step{{Key: "a", IsKey: true}}}, []byte(`{"a": 1,`)); ok {
		t.Error("a value found in a document that is not JSON")
	}
}
