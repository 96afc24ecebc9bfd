package clientaddr

import (
	"net/http/httptest"
	"testing"
)

func TestKey(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.7:51234", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:51234", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"[::1]:8069", "::/64"},
		{"127.0.0.1:8069", "127.0.0.1"},
		{"192.0.2.7", "192.0.2.7"},
		{"@", "@"},
		{"", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if got := Key(r); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}
