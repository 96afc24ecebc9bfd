package websession

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	a, b := strings.Repeat("ab", 20), strings.Repeat("0f", 20)
	cases := []struct {
		name   string
		cookie string // the Cookie header, "" for none
		id     string
		ids    []string
	}{
		{"no cookie", "", "", nil},
		{"a session id", "session_id=" + a, a, []string{a}},
		{"upper-case hex", "session_id=" + strings.ToUpper(a), strings.ToUpper(a), []string{strings.ToUpper(a)}},
		{"junk", "session_id=junk", "", nil},
		{"too short", "session_id=" + a[:38], "", nil},
		{"not hex", "session_id=" + strings.Repeat("zz", 20), "", nil},
		{"empty", "session_id=", "", nil},
		{"another cookie", "sid=" + a, "", nil},
		{"junk first", "session_id=junk; session_id=" + a, a, []string{a}},
		{"two ids", "session_id=" + a + "; session_id=" + b, a, []string{a, b}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if c.cookie != "" {
				r.Header.Set("Cookie", c.cookie)
			}
			if got := ID(r); got != c.id {
				t.Errorf("ID = %q, want %q", got, c.id)
			}
			if got := IDs(r); !slices.Equal(got, c.ids) {
				t.Errorf("IDs = %q, want %q", got, c.ids)
			}
		})
	}
}
