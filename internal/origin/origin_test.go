package origin

import (
	"net/http/httptest"
	"testing"
)

func TestTrusted(t *testing.T) {
	p := New([]string{"https://ERP.example.com/", "not a url", "ftp://x"})
	cases := []struct {
		name, host, origin, fetchSite string
		want                          bool
	}{
		{"no origin: non-browser client", "srv:8069", "", "", true},
		{"no origin but cross-site fetch", "srv:8069", "", "cross-site", false},
		{"same host", "srv:8069", "http://srv:8069", "same-origin", true},
		{"same host other scheme", "srv:8069", "https://srv:8069", "", true},
		{"other port is another origin", "srv:8069", "http://srv:8070", "", false},
		{"listed origin, case-insensitive", "srv:8069", "https://erp.EXAMPLE.com", "cross-site", true},
		{"listed host, other scheme", "srv:8069", "http://erp.example.com", "", false},
		{"foreign origin", "srv:8069", "https://evil.example", "cross-site", false},
		{"null origin", "srv:8069", "null", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://"+c.host+"/web/dataset/call_kw", nil)
			r.Host = c.host
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if c.fetchSite != "" {
				r.Header.Set("Sec-Fetch-Site", c.fetchSite)
			}
			if got := p.Trusted(r); got != c.want {
				t.Fatalf("Trusted = %v, want %v", got, c.want)
			}
		})
	}
}

func TestListed(t *testing.T) {
	p := New([]string{"https://erp.example.com"})
	r := httptest.NewRequest("OPTIONS", "http://srv/hw_drivers/event", nil)
	if _, ok := p.Listed(r); ok {
		t.Fatal("a request without Origin is not listed")
	}
	r.Header.Set("Origin", "https://erp.example.com")
	if o, ok := p.Listed(r); !ok || o != "https://erp.example.com" {
		t.Fatalf("Listed = %q, %v", o, ok)
	}
	r.Header.Set("Origin", "http://srv")
	if _, ok := p.Listed(r); ok {
		t.Fatal("the server's own origin is not a listed CORS origin")
	}
}
