// Package clientaddr names the client of an HTTP request for the limits
// that count per client: the login throttle (package rpc) and the caps on
// concurrent requests (the server). Both must agree on who a client is, so
// the rule lives here, once.
//
// The key is the client's IP address without its port; an IPv6 address is
// cut to its /64 network, because one host or one home commonly holds a
// whole /64 and could otherwise take a fresh key per request. The client
// is the TCP peer, unless the server runs in proxy mode and a Resolver's
// middleware found the address a trusted proxy forwarded (resolver.go).
package clientaddr

import (
	"context"
	"net"
	"net/http"
	"net/netip"
)

// Key returns the key of r's client: "192.0.2.7", or "2001:db8:1:2::/64".
// It is the address Resolver.Middleware stored in r's context, or else the
// peer's (RemoteAddr). A RemoteAddr that is not an IP (a Unix socket, a
// test's fake address) is its own key.
func Key(r *http.Request) string {
	if c, ok := fromContext(r.Context()); ok && c.addr.IsValid() {
		return keyOf(c.addr)
	}
	return hostKey(r.RemoteAddr)
}

// Addr returns r's client address for logs, whole (an IPv6 address is
// not cut to its /64) and without a port: the one a trusted proxy named,
// or else the peer's.
func Addr(r *http.Request) string {
	if c, ok := fromContext(r.Context()); ok && c.addr.IsValid() {
		return c.addr.String()
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Secure reports whether r's client talks to us over TLS: r itself came
// over TLS, or a trusted proxy said it got r over https
// (X-Forwarded-Proto, with proxy mode on).
func Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	c, ok := fromContext(r.Context())
	return ok && c.https
}

// hostKey is the key of a RemoteAddr, "host:port" or a bare host.
func hostKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	return keyOf(ip)
}

func keyOf(ip netip.Addr) string {
	ip = ip.Unmap() // ::ffff:192.0.2.7 is 192.0.2.7
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

// client is what a trusted proxy told the middleware of a request.
type client struct {
	addr  netip.Addr // invalid: X-Forwarded-For missing or malformed; the peer is the client
	https bool       // X-Forwarded-Proto: https
}

type clientKey struct{}

func fromContext(ctx context.Context) (client, bool) {
	c, ok := ctx.Value(clientKey{}).(client)
	return c, ok
}
