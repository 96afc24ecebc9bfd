// Package origin decides whether a browser request comes from a page the
// server trusts: its own pages, or origins an operator listed. The JSON
// routes that change state, the bus's WebSocket handshake and the IoT-box
// endpoints all ask it, so the rule lives in one place.
package origin

import (
	"net/http"
	"net/url"
	"strings"
)

// Policy is the list of trusted foreign origins ("https://erp.example.com").
type Policy struct {
	allowed map[string]bool
}

// New builds a policy from origins as an operator writes them; a trailing
// slash and letter case do not matter.
func New(origins []string) Policy {
	p := Policy{allowed: map[string]bool{}}
	for _, o := range origins {
		if o = Normalize(o); o != "" {
			p.allowed[o] = true
		}
	}
	return p
}

// Normalize returns scheme://host[:port] in lower case, or "" when o is
// not an http(s) origin.
func Normalize(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// Listed reports whether the request's Origin header names a listed
// origin (for CORS answers, which never trust the server's own host by
// accident of a missing header).
func (p Policy) Listed(r *http.Request) (string, bool) {
	o := Normalize(r.Header.Get("Origin"))
	return o, o != "" && p.allowed[o]
}

// Trusted reports whether a request may change state on behalf of the
// session its cookie carries. Requests without an Origin header come from
// non-browser clients (browsers send Origin on every POST and WebSocket
// handshake) and pass unless Sec-Fetch-Site says cross-site; a browser
// request passes when its Origin is this server's own host or a listed one.
func (p Policy) Trusted(r *http.Request) bool {
	raw := r.Header.Get("Origin")
	if raw == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	o := Normalize(raw)
	if o == "" {
		return false // "null" (sandboxed frames, file://) and junk
	}
	if p.allowed[o] {
		return true
	}
	u, _ := url.Parse(o)
	return strings.EqualFold(u.Host, r.Host)
}
