package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// through runs r through rv's middleware and returns the Key and Secure
// the handler behind it sees.
func through(rv Resolver, r *http.Request) (key string, secure bool) {
	rv.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		key, secure = Key(r), Secure(r)
	})).ServeHTTP(httptest.NewRecorder(), r)
	return key, secure
}

func mustTrusted(t *testing.T, list string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrusted(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolver(t *testing.T) {
	const lb = "10.0.0.5:40000" // the load balancer, as our peer
	chain := mustTrusted(t, "10.0.0.0/24, 192.0.2.10, 2001:db8:ffff::/48")
	tests := []struct {
		name    string
		rv      Resolver
		remote  string
		xff     []string // X-Forwarded-For headers, in order
		proto   []string // X-Forwarded-Proto headers
		want    string
		wantTLS bool
	}{
		// Proxy mode off: the headers mean nothing.
		{"off ignores XFF", NewResolver(false, nil), lb, []string{"198.51.100.7"}, []string{"https"}, "10.0.0.5", false},
		{"zero resolver is off", Resolver{}, lb, []string{"198.51.100.7"}, nil, "10.0.0.5", false},

		// No list: the peer is one trusted hop, the rightmost entry is the client.
		{"one hop", NewResolver(true, nil), lb, []string{"198.51.100.7"}, nil, "198.51.100.7", false},
		{"one hop, spoofed leftmost", NewResolver(true, nil), lb, []string{"203.0.113.66, 198.51.100.7"}, nil, "198.51.100.7", false},
		{"one hop takes the rightmost even if it looks internal", NewResolver(true, nil), lb, []string{"10.0.0.9, 10.0.0.7"}, nil, "10.0.0.7", false},
		{"one hop IPv6 client keyed by /64", NewResolver(true, nil), lb, []string{"2001:db8:1:2::99"}, nil, "2001:db8:1:2::/64", false},
		{"one hop IPv6 peer", NewResolver(true, nil), "[2001:db8:ffff::1]:443", []string{"198.51.100.7"}, nil, "198.51.100.7", false},
		{"entry with a port", NewResolver(true, nil), lb, []string{"198.51.100.7:51234"}, nil, "198.51.100.7", false},
		{"IPv6 entry in brackets with a port", NewResolver(true, nil), lb, []string{"[2001:db8:1:2::99]:443"}, nil, "2001:db8:1:2::/64", false},
		{"IPv6 entry in brackets", NewResolver(true, nil), lb, []string{"[2001:db8:1:2::99]"}, nil, "2001:db8:1:2::/64", false},
		{"mapped IPv4 entry", NewResolver(true, nil), lb, []string{"::ffff:198.51.100.7"}, nil, "198.51.100.7", false},
		{"https from the proxy", NewResolver(true, nil), lb, []string{"198.51.100.7"}, []string{"https"}, "198.51.100.7", true},
		{"HTTPS any case", NewResolver(true, nil), lb, []string{"198.51.100.7"}, []string{"HTTPS"}, "198.51.100.7", true},
		{"http from the proxy", NewResolver(true, nil), lb, []string{"198.51.100.7"}, []string{"http"}, "198.51.100.7", false},
		{"proto: the nearest proxy's word", NewResolver(true, nil), lb, []string{"198.51.100.7"}, []string{"https, http"}, "198.51.100.7", false},
		{"proto: the last header", NewResolver(true, nil), lb, []string{"198.51.100.7"}, []string{"http", "https"}, "198.51.100.7", true},

		// A list: the peer must be in it, trusted entries are skipped.
		{"trusted peer", NewResolver(true, chain), lb, []string{"198.51.100.7"}, []string{"https"}, "198.51.100.7", true},
		{"chain of trusted proxies", NewResolver(true, chain), lb, []string{"198.51.100.7, 192.0.2.10, 10.0.0.6"}, nil, "198.51.100.7", false},
		{"chain over two headers", NewResolver(true, chain), lb, []string{"198.51.100.7, 192.0.2.10", "10.0.0.6"}, nil, "198.51.100.7", false},
		{"chain, spoofed leftmost entries", NewResolver(true, chain), lb, []string{"1.2.3.4, 10.0.0.1, 198.51.100.7, 10.0.0.6"}, nil, "198.51.100.7", false},
		{"chain, garbage left of the client is not read", NewResolver(true, chain), lb, []string{"unknown, 198.51.100.7, 10.0.0.6"}, nil, "198.51.100.7", false},
		{"chain, IPv6 hops", NewResolver(true, chain), "[2001:db8:ffff:1::2]:443", []string{"2001:db8:5:6::7, 2001:db8:ffff:2::3"}, nil, "2001:db8:5:6::/64", false},
		{"every entry trusted: the leftmost", NewResolver(true, chain), lb, []string{"10.0.0.7, 10.0.0.6"}, nil, "10.0.0.7", false},
		{"untrusted peer: spoofed XFF ignored", NewResolver(true, chain), "198.51.100.200:5000", []string{"198.51.100.7"}, []string{"https"}, "198.51.100.200", false},
		{"untrusted IPv6 peer keeps its /64", NewResolver(true, chain), "[2001:db8:7:8::1]:5000", []string{"198.51.100.7"}, nil, "2001:db8:7:8::/64", false},
		{"mapped peer matches an IPv4 network", NewResolver(true, chain), "[::ffff:10.0.0.5]:40000", []string{"198.51.100.7"}, nil, "198.51.100.7", false},

		// Missing or malformed headers keep the peer.
		{"no XFF", NewResolver(true, chain), lb, nil, nil, "10.0.0.5", false},
		{"no XFF, https still believed", NewResolver(true, chain), lb, nil, []string{"https"}, "10.0.0.5", true},
		{"empty XFF", NewResolver(true, chain), lb, []string{""}, nil, "10.0.0.5", false},
		{"garbage XFF", NewResolver(true, nil), lb, []string{"unknown"}, nil, "10.0.0.5", false},
		{"empty entry", NewResolver(true, chain), lb, []string{"198.51.100.7, , 10.0.0.6"}, nil, "10.0.0.5", false},
		{"trailing comma", NewResolver(true, nil), lb, []string{"198.51.100.7,"}, nil, "10.0.0.5", false},
		{"hostname entry", NewResolver(true, chain), lb, []string{"client.example.com"}, nil, "10.0.0.5", false},
		{"peer not an IP", NewResolver(true, nil), "@", []string{"198.51.100.7"}, []string{"https"}, "@", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tt.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			key, secure := through(tt.rv, r)
			if key != tt.want || secure != tt.wantTLS {
				t.Errorf("Key, Secure = %q, %v; want %q, %v", key, secure, tt.want, tt.wantTLS)
			}
		})
	}
}

func TestSecureOverTLS(t *testing.T) {
	r := httptest.NewRequest("GET", "https://x/", nil) // sets r.TLS
	if _, secure := through(Resolver{}, r); !secure {
		t.Error("a request over TLS is not Secure")
	}
}

func TestParseTrusted(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"", "", ""},
		{" , ", "", ""},
		{"10.0.0.7", "10.0.0.7/32", ""},
		{"10.0.0.0/8, 192.168.1.10/24", "10.0.0.0/8 192.168.1.0/24", ""},
		{"2001:db8::7, 2001:db8:1::/48", "2001:db8::7/128 2001:db8:1::/48", ""},
		{"::ffff:10.0.0.7", "10.0.0.7/32", ""},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"::ffff:0:0/64", "", "at least /96"},
		{"10.0.0.300", "", `invalid address or network "10.0.0.300"`},
		{"10.0.0.0/33", "", `invalid address or network "10.0.0.0/33"`},
		{"proxy.example.com", "", "invalid address or network"},
		{"fe80::1%eth0", "", "invalid address or network"},
		{"10.0.0.1-10.0.0.9", "", "invalid address or network"},
	}
	for _, tt := range tests {
		ps, err := ParseTrusted(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTrusted(%q) error = %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTrusted(%q): %v", tt.in, err)
			continue
		}
		got := make([]string, len(ps))
		for i, p := range ps {
			got[i] = p.String()
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("ParseTrusted(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestAddr(t *testing.T) {
	proxy := NewResolver(true, mustTrusted(t, "10.0.0.5"))
	tests := []struct {
		name   string
		rv     Resolver
		remote string
		xff    string
		want   string
	}{
		{"peer, port dropped", Resolver{}, "192.0.2.7:51234", "", "192.0.2.7"},
		{"IPv6 peer kept whole", Resolver{}, "[2001:db8:1:2::7]:443", "", "2001:db8:1:2::7"},
		{"not an address", Resolver{}, "@", "", "@"},
		{"forwarded, whole", proxy, "10.0.0.5:40000", "2001:db8:1:2::99", "2001:db8:1:2::99"},
		{"forwarded by an untrusted peer", proxy, "10.0.0.6:40000", "198.51.100.7", "10.0.0.6"},
		{"malformed header", proxy, "10.0.0.5:40000", "unknown", "10.0.0.5"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		var got string
		tt.rv.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = Addr(r) })).ServeHTTP(httptest.NewRecorder(), r)
		if got != tt.want {
			t.Errorf("%s: Addr = %q, want %q", tt.name, got, tt.want)
		}
	}
}
