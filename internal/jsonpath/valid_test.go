package jsonpath

import (
	"encoding/json"
	"strings"
	"testing"
)

// jsonValidCases are the edges of the grammar, each checked against
// encoding/json.Valid rather than an expectation written by hand.
var jsonValidCases = []string{
	``, ` `, `1`, ` 1 `, `-`, `-0`, `-01`, `01`, `0.`, `0.5`, `.5`, `1e`, `1e+`, `1E-7`, `1e5.`, `1.5e3`, `+1`,
	`"`, `""`, `"a`, `"\"`, `"\\"`, `"\u00e9"`, `"\u00G9"`, `"\u00e"`, `"\x"`, "\"\x1f\"", "\"\xff\"", `"\/"`,
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `nulll`,
	`{}`, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1}`, `{"a":1,}`, `{,}`, `{"a":1 "b":2}`, `{"a":1,"b":[1,2,{"c":null}]}`, `{1:2}`,
	`[]`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[[]`, `[]]`, `[{}]`, `[{]}`, `{"a":[}`,
	"\t{\n\"a\"\r:\n1\t}\r\n", `{"seq": 12, "value": 21.5}`, `1 2`, `{} {}`, `"a" "b"`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10000) + "{}" + strings.Repeat("}", 10000),
}

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range jsonValidCases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			name := c
			if len(name) > 40 {
				name = name[:40] + "..."
			}
			t.Errorf("Valid(%q) = %v, json.Valid says %v", name, got, want)
		}
	}
}

// FuzzValidJSON holds Valid equal to encoding/json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, c := range jsonValidCases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", data, got, want)
		}
	})
}

// BenchmarkValidJSON: the check every message a rule looks into goes
// through, against encoding/json's, on a bench-like payload.
func BenchmarkValidJSON(b *testing.B) {
	payload := []byte(`{"seq": 123456, "value": 21.5, "pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)
	b.Run("Valid", func(b *testing.B) {
		for range b.N {
			Valid(payload)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			json.Valid(payload)
		}
	})
}
