package py

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestIsFalseAndTruthy(t *testing.T) {
	tests := []struct {
		v              any
		isFalse, truth bool
	}{
		{nil, true, false},
		{false, true, false},
		{true, false, true},
		{int64(0), false, false},
		{int64(3), false, true},
		{0, false, false},
		{0.0, false, false},
		{0.5, false, true},
		{"", false, false},
		{"x", false, true},
		{[]any{}, false, false},
		{[]any{nil}, false, true},
		{[]int64{}, false, false},
		{[]string{"a"}, false, true},
		{map[string]any{}, false, false},
		{map[string]any{"a": 1}, false, true},
		{struct{}{}, false, true},
	}
	for _, tc := range tests {
		if got := IsFalse(tc.v); got != tc.isFalse {
			t.Errorf("IsFalse(%#v) = %v, want %v", tc.v, got, tc.isFalse)
		}
		if got := Truthy(tc.v); got != tc.truth {
			t.Errorf("Truthy(%#v) = %v, want %v", tc.v, got, tc.truth)
		}
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		v      any
		i      int64
		iok    bool
		like   int64
		likeOK bool
		f      float64
		fok    bool
	}{
		{int64(7), 7, true, 7, true, 7, true},
		{7, 7, true, 7, true, 7, true},
		{7.0, 7, true, 7, true, 7, true},
		{7.5, 0, false, 0, false, 7.5, true},
		{float64(1 << 53), 0, false, 0, false, 1 << 53, true},
		{math.NaN(), 0, false, 0, false, math.NaN(), true},
		{true, 0, false, 1, true, 0, false},
		{false, 0, false, 0, true, 0, false},
		{"7", 0, false, 0, false, 0, false},
		{nil, 0, false, 0, false, 0, false},
	}
	for _, tc := range tests {
		if i, ok := Int(tc.v); i != tc.i || ok != tc.iok {
			t.Errorf("Int(%#v) = %d, %v; want %d, %v", tc.v, i, ok, tc.i, tc.iok)
		}
		if i, ok := IntLike(tc.v); i != tc.like || ok != tc.likeOK {
			t.Errorf("IntLike(%#v) = %d, %v; want %d, %v", tc.v, i, ok, tc.like, tc.likeOK)
		}
		f, ok := Float(tc.v)
		if ok != tc.fok || ok && f != tc.f && !(math.IsNaN(f) && math.IsNaN(tc.f)) {
			t.Errorf("Float(%#v) = %v, %v; want %v, %v", tc.v, f, ok, tc.f, tc.fok)
		}
	}
}

func TestList(t *testing.T) {
	for _, v := range []any{[]any{int64(1), "a"}, []int64{1, 2}, []int{1, 2}, []string{"a", "b"}} {
		l, ok := List(v)
		if !ok || len(l) != 2 {
			t.Errorf("List(%#v) = %v, %v", v, l, ok)
		}
	}
	if l, _ := List([]int{3}); l[0] != int64(3) {
		t.Errorf("[]int items become int64, got %#v", l[0])
	}
	for _, v := range []any{nil, "ab", map[string]any{}, int64(1), []byte("x")} {
		if _, ok := List(v); ok {
			t.Errorf("List(%#v) accepted a non-list", v)
		}
	}
}

func TestStrAndRepr(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	tests := []struct {
		v     any
		str   string
		strOK bool
		repr  string
	}{
		{nil, "None", true, "None"},
		{true, "True", true, "True"},
		{false, "False", true, "False"},
		{"a'b", "a'b", true, `"a'b"`},
		{`a"b`, `a"b`, true, `'a"b'`},
		{`a'b"c`, `a'b"c`, true, `'a\'b"c'`},
		{"x\ny\\", "x\ny\\", true, `'x\ny\\'`},
		{"tab\t\x01é", "tab\t\x01é", true, `'tab\t\x01é'`},
		{int64(-3), "-3", true, "-3"},
		{42.0, "42", true, "42"},
		{2.5, "2.5", true, "2.5"},
		{1e21, "1e+21", true, "1e+21"},
		{ts, "2026-01-02 02:04:05", true, "2026-01-02 02:04:05"},
		{"\xff", "\xff", false, `'\xff'`},
		{[]any{int64(1), "a", nil}, "", false, `[1, 'a', None]`},
		{[]int64{1, 2}, "", false, "[1, 2]"},
		{map[string]any{"k": 1}, "", false, "{...}"},
		{Tuple{"name", "~", "x"}, "", false, `('name', '~', 'x')`},
		{Tuple{"name"}, "", false, `('name',)`},
		{Tuple{}, "", false, `()`},
		{Tuple{"id", "in", []any{int64(1), true}}, "", false, `('id', 'in', [1, True])`},
	}
	for _, tc := range tests {
		s, ok := Str(tc.v)
		if ok != tc.strOK || ok && s != tc.str {
			t.Errorf("Str(%#v) = %q, %v; want %q, %v", tc.v, s, ok, tc.str, tc.strOK)
		}
		if got := Repr(tc.v); got != tc.repr {
			t.Errorf("Repr(%#v) = %s, want %s", tc.v, got, tc.repr)
		}
	}
	long := ReprShort(strings.Repeat("é", 400))
	if len(long) > 504 || !strings.HasSuffix(long, "...") || !strings.HasPrefix(long, `'é`) {
		t.Errorf("ReprShort cut %d bytes: %q...", len(long), long[:20])
	}
	if got := ReprShort("short"); got != `'short'` {
		t.Errorf("ReprShort(short) = %s", got)
	}
}

func TestTextAndTypeName(t *testing.T) {
	tests := []struct {
		v          any
		text, name string
	}{
		{nil, "None", "NoneType"},
		{true, "True", "bool"},
		{int64(3), "3", "int"},
		{2.5, "2.5", "float"},
		{"a'b", "a'b", "str"},
		{[]any{"a", int64(1)}, "['a', 1]", "list"},
		{[]int64{1}, "[1]", "list"},
		{map[string]any{}, "{...}", "dict"},
	}
	for _, tc := range tests {
		if got := Text(tc.v); got != tc.text {
			t.Errorf("Text(%#v) = %s, want %s", tc.v, got, tc.text)
		}
		if got := TypeName(tc.v); got != tc.name {
			t.Errorf("TypeName(%#v) = %s, want %s", tc.v, got, tc.name)
		}
	}
}

// TestFloatRepr pins Python's repr of floats, as CPython 3 prints them;
// Repr agrees except on integral values, which it prints as JSON's ints.
func TestFloatRepr(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-2.5, "-2.5"}, {0.1, "0.1"}, {1.5e-5, "1.5e-05"}, {0.0001, "0.0001"},
		{1e16, "1e+16"}, {123456789012345.6, "123456789012345.6"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{math.NaN(), "nan"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	} {
		if got := FloatRepr(c.in); got != c.want {
			t.Errorf("FloatRepr(%v) = %q, want %q", c.in, got, c.want)
		}
		if got := Repr(c.in); c.in != math.Trunc(c.in) && got != c.want {
			t.Errorf("Repr(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
