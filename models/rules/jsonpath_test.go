package rules

import "testing"

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
