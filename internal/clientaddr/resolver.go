package clientaddr

// Proxy mode: behind a reverse proxy or a load balancer, the TCP peer of
// every request is the proxy, and the client's own address only comes in
// X-Forwarded-For. That header is whatever the client sent, plus one entry
// per proxy it crossed, each appended on the right; only the entries
// appended by proxies we trust can be believed, so the list is read from
// the right and the first address that is not a trusted proxy is the
// client. Anything to its left is the client's own say and is not read.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds the client address of requests, as configured at start
// (--proxy-mode, --trusted-proxies). The zero Resolver has proxy mode off:
// every request's client is its peer.
type Resolver struct {
	proxyMode bool
	trusted   []netip.Prefix
}

// NewResolver returns the resolver for proxy mode on or off. With proxy
// mode on, only a peer inside trusted is believed; an empty trusted
// believes any peer, as one proxy hop (Odoo's --proxy-mode, werkzeug's
// ProxyFix(x_for=1)): the client is then the rightmost X-Forwarded-For
// entry, and the server must be reachable through the proxy only.
func NewResolver(proxyMode bool, trusted []netip.Prefix) Resolver {
	return Resolver{proxyMode: proxyMode, trusted: trusted}
}

// ParseTrusted reads a comma-separated list of IP addresses and CIDR
// networks ("10.0.0.0/8, 192.0.2.7, 2001:db8::/32"). A bare address is a
// network of one; host bits after the prefix are dropped
// (192.168.1.10/24 is 192.168.1.0/24); IPv4-mapped IPv6 forms are read
// as IPv4, as Key reads addresses.
func ParseTrusted(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	bad := fmt.Errorf("invalid address or network %q (want an IP like 10.0.0.7 or 2001:db8::7, or a CIDR like 10.0.0.0/8)", s)
	if !strings.Contains(s, "/") {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return netip.Prefix{}, bad
		}
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, bad
	}
	if ip := p.Addr(); ip.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("invalid network %q (an IPv4-mapped network needs a prefix of at least /96)", s)
		}
		p = netip.PrefixFrom(ip.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// trusts reports whether ip is a trusted proxy.
func (rv Resolver) trusts(ip netip.Addr) bool {
	for _, p := range rv.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// resolve returns what a trusted proxy said of r: the client's address
// from X-Forwarded-For (invalid when the header is missing or does not
// parse where it is read) and whether it got r over https. It returns
// false when r's peer is not a proxy to believe, or proxy mode is off.
func (rv Resolver) resolve(r *http.Request) (client, bool) {
	if !rv.proxyMode {
		return client{}, false
	}
	peer, ok := parseEntry(r.RemoteAddr)
	if !ok || (len(rv.trusted) > 0 && !rv.trusts(peer)) {
		return client{}, false
	}
	return client{addr: rv.forwardedFor(r), https: forwardedHTTPS(r)}, true
}

// forwardedFor walks X-Forwarded-For from the right. Several headers are
// one list, in order (RFC 9110 §5.3).
func (rv Resolver) forwardedFor(r *http.Request) netip.Addr {
	var entries []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		entries = append(entries, strings.Split(h, ",")...)
	}
	var addr netip.Addr
	for i := len(entries) - 1; i >= 0; i-- {
		ip, ok := parseEntry(strings.TrimSpace(entries[i]))
		if !ok {
			return netip.Addr{} // a proxy we trust wrote garbage
		}
		addr = ip
		// With no list, the peer is the one hop: its entry is the client.
		if len(rv.trusted) == 0 || !rv.trusts(ip) {
			break
		}
		// All trusted so far: go on; if all are, the leftmost, the
		// farthest hop known, is the client.
	}
	return addr
}

// forwardedHTTPS reads X-Forwarded-Proto as set by the nearest proxy, the
// last value (ProxyFix(x_proto=1) does the same): a chain of proxies must
// pass on the scheme the outermost one saw.
func forwardedHTTPS(r *http.Request) bool {
	vs := r.Header.Values("X-Forwarded-Proto")
	if len(vs) == 0 {
		return false
	}
	parts := strings.Split(vs[len(vs)-1], ",")
	return strings.EqualFold(strings.TrimSpace(parts[len(parts)-1]), "https")
}

// parseEntry reads an address as X-Forwarded-For entries and RemoteAddr
// write it: a bare IP, or one with a port ("192.0.2.7:4711",
// "[2001:db8::7]:4711"), which some load balancers add.
func parseEntry(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.WithZone("").Unmap(), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]") // [2001:db8::7]
		if len(host) != len(s)-2 {
			return netip.Addr{}, false
		}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.WithZone("").Unmap(), true
}

// Middleware resolves each request's client once, before the limits run,
// and stores it in the request's context, where Key and Secure read it.
func (rv Resolver) Middleware(next http.Handler) http.Handler {
	if !rv.proxyMode {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := rv.resolve(r); ok {
			r = r.WithContext(context.WithValue(r.Context(), clientKey{}, c))
		}
		next.ServeHTTP(w, r)
	})
}

// String describes the resolver for the start-up log.
func (rv Resolver) String() string {
	switch {
	case !rv.proxyMode:
		return "off"
	case len(rv.trusted) == 0:
		return "on, trusting any peer as one proxy hop"
	}
	s := make([]string, len(rv.trusted))
	for i, p := range rv.trusted {
		s[i] = p.String()
	}
	return "on, trusting " + strings.Join(s, ", ")
}
