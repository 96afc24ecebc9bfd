// Package clientaddr names the client of an HTTP request for the limits
// that count per client: the login throttle (package rpc) and the cap on
// concurrent requests (the server). Both must agree on who a client is, so
// the rule lives here, once.
//
// The key is the peer's IP address without its port; an IPv6 address is
// cut to its /64 network, because one host or one home commonly holds a
// whole /64 and could otherwise take a fresh key per request. The server
// has no proxy mode: behind a reverse proxy every client has the proxy's
// address, and shares its budgets (see README.md, Configuration).
package clientaddr

import (
	"net"
	"net/http"
	"net/netip"
)

// Key returns the key of r's client: "192.0.2.7", or "2001:db8:1:2::/64".
// A RemoteAddr that is not an IP (a Unix socket, a test's fake address) is
// its own key.
func Key(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap() // ::ffff:192.0.2.7 is 192.0.2.7
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return host
	}
	return p.String()
}
