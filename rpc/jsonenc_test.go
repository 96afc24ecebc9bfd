package rpc

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

func TestAppendJSON(t *testing.T) {
	d := models.NewDict(3)
	d.Set("z", int64(1))
	d.Set("a", []int64(nil))
	d.Set("m", nil)
	var nilDict *models.Dict
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"float integral", 20.0, "20.0"},
		{"float fraction", 0.1, "0.1"},
		{"float negative", -1.5, "-1.5"},
		{"float zero", 0.0, "0.0"},
		{"float big", 1e16, "1e+16"},
		{"float below 1e16", 1234567890123456.0, "1234567890123456.0"},
		{"float small", 0.00001, "1e-05"},
		{"int64", int64(-7), "-7"},
		{"bool", false, "false"},
		{"html escaped", "<a href='x'>&</a>", `"\u003ca href='x'\u003e\u0026\u003c/a\u003e"`},
		{"unicode kept", "température", `"température"`},
		{"nil list", []any(nil), "[]"},
		{"nil ids", []int64(nil), "[]"},
		{"nil map", map[string]any(nil), "{}"},
		{"sorted map", map[string]any{"b": 1, "a": []any{nil, true}}, `{"a":[null,true],"b":1}`},
		{"ordered dict", d, `{"z":1,"a":[],"m":null}`},
		{"nil dict", nilDict, "null"},
		{"dict list", []*models.Dict{d}, `[{"z":1,"a":[],"m":null}]`},
		{"string list", []string{"x"}, `["x"]`},
		{"nil string list", []string(nil), `[]`},
		{"datetime", time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600)), `"2024-05-06 06:08:09"`},
		{"bytes", []byte("aGk="), `"aGk="`},
		{"int keys", map[int64]string{1: "a"}, `{"1":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendJSON(nil, tt.in, 0)
			if err != nil || string(got) != tt.want {
				t.Errorf("= %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), make(chan int)} {
		if got, err := appendJSON(nil, bad, 0); err == nil {
			t.Errorf("%v encoded as %s, want an error", bad, got)
		}
	}
	cyclic := []any{nil}
	cyclic[0] = cyclic
	if _, err := appendJSON(nil, cyclic, 0); err == nil {
		t.Error("a cyclic value should fail, not recurse forever")
	}
}

func TestParseEnvelope(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		id     string
		params map[string]any
		code   int // 0: accepted
	}{
		{"numbers", `{"id": 1, "params": {"ids": [1, 2.0, 2.5, 1e2, 99999999999999999999], "uid": -2}}`, "1",
			map[string]any{"ids": []any{int64(1), 2.0, 2.5, 100.0, 1e20}, "uid": int64(-2)}, 0},
		{"no params, no id", `{"jsonrpc": "2.0", "method": "call"}`, "", map[string]any{}, 0},
		{"null params", `{"params": null, "id": "x"}`, `"x"`, map[string]any{}, 0},
		{"id html-escaped and compacted", `{"id": [ "</script>" ], "params": {}}`, `["\u003c/script\u003e"]`, map[string]any{}, 0},
		{"params string", `{"params": "x"}`, "", nil, -32600},
		{"params array keeps id", `{"id": 3, "params": [1]}`, "3", nil, -32600},
		{"top-level number", `42`, "", nil, -32600},
		{"trailing garbage", `{"params": {}} x`, "", nil, -32700},
		{"not json", `{params: {}}`, "", nil, -32700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, params, jerr := parseEnvelope([]byte(tt.body))
			if tt.code != 0 {
				if jerr == nil || jerr.Code != tt.code || jerr.Data.Name != jsonrpc.NameBadRequest {
					t.Fatalf("error = %+v, want code %d", jerr, tt.code)
				}
			} else if jerr != nil {
				t.Fatalf("unexpected error %+v", jerr)
			}
			if string(id) != tt.id {
				t.Errorf("id = %s, want %s", id, tt.id)
			}
			if tt.code == 0 && !reflect.DeepEqual(params, tt.params) {
				t.Errorf("params = %#v, want %#v", params, tt.params)
			}
		})
	}
}

func TestParseUID(t *testing.T) {
	tests := []struct {
		in   any
		want int64
		ok   bool
	}{
		{int64(2), 2, true},
		{2.0, 2, true},
		{"2", 2, true},
		{" 7 ", 7, true},
		{false, 0, true},
		{true, 1, true},
		{2.5, 0, false},
		{"abc", 0, false},
		{nil, 0, false},
		{[]any{int64(1)}, 0, false},
		{math.Inf(1), 0, false},
	}
	for _, tt := range tests {
		got, err := parseUID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseUID(%#v) = %d, %v", tt.in, got, err)
		}
		if err != nil && models.KindOf(err) != models.KindValue {
			t.Errorf("parseUID(%#v) error kind %v, want value", tt.in, models.KindOf(err))
		}
	}
}

func TestCheckArgs(t *testing.T) {
	names := []string{"db", "login", "password", "user_agent_env"}
	tests := []struct {
		n, required int
		want        string
	}{
		{4, 4, ""},
		{3, 4, "exp_authenticate() missing 1 required positional argument: 'user_agent_env'"},
		{1, 4, "exp_authenticate() missing 3 required positional arguments: 'login', 'password' and 'user_agent_env'"},
		{5, 4, "exp_authenticate() takes 4 positional arguments but 5 were given"},
		{5, 2, "exp_authenticate() takes from 2 to 4 positional arguments but 5 were given"},
	}
	for _, tt := range tests {
		err := checkArgs("exp_authenticate", make([]any, tt.n), names, tt.required)
		got := ""
		if err != nil {
			got = models.MessageOf(err)
		}
		if got != tt.want {
			t.Errorf("checkArgs(%d, %d) = %q, want %q", tt.n, tt.required, got, tt.want)
		}
	}
}

// TestAppendStringMatchesEncodingJSON: the hand-written escaper writes
// exactly what encoding/json writes, for every byte pattern we can think of
// and for random inputs.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `quote " backslash \ slash /`, "<script>&</script>", "tab\tnl\ncr\r",
		"\x00\x01\x1f\x7f", "é ü 😀 \u2028 \u2029", "bad \xff\xfe utf8 \xc3", "\xe2\x80", strings.Repeat("x<", 100)}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rnd.IntN(24))
		for j := range b {
			b[j] = byte(rnd.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}
