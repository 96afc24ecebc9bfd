// Package websession reads Odoo's web session cookie, the one the web
// login sets (package rpc) and every route that runs as the logged-in
// user reads: the JSON-RPC /web routes, the bus and the IoT-box
// endpoints.
package websession

import (
	"net/http"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Cookie is the name of Odoo's web session cookie (odoo-rpc.md §2.4).
const Cookie = "session_id"

// ID is the value of r's first session cookie that has the shape of a
// session id (models.ValidSessionID), or "" when there is none. Other
// values are ignored, as Odoo ignores them: the client then counts as
// having no session.
func ID(r *http.Request) string {
	for _, c := range r.CookiesNamed(Cookie) {
		if models.ValidSessionID(c.Value) {
			return c.Value
		}
	}
	return ""
}

// IDs are the values of all of r's session cookies that have the shape of
// a session id, in the order the client sent them (a browser may hold
// several, set for different paths).
func IDs(r *http.Request) []string {
	var out []string
	for _, c := range r.CookiesNamed(Cookie) {
		if models.ValidSessionID(c.Value) {
			out = append(out, c.Value)
		}
	}
	return out
}
