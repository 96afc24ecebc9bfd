package iotbox

import "net/http"

// CORS as the IoT box sends it (odoo-rpc.md §6.3), but only to allowed
// origins, and with the origin echoed instead of '*' so that no other site
// may read the answers.

const (
	corsMethods = "POST"
	corsHeaders = "Origin, X-Requested-With, Content-Type, Accept, Authorization"
	corsMaxAge  = "86400"
)

// allowedOrigin reports whether origin is one of Options.AllowedOrigins.
func (b *Box) allowedOrigin(origin string) bool {
	return origin != "" && b.origins[origin]
}

// corsHeaders adds Access-Control-Allow-Origin for an allowed origin.
// Vary is always set: the answer depends on Origin.
func (b *Box) corsHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); b.allowedOrigin(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
	}
}

// preflight answers OPTIONS: 204 with the box's CORS headers for an
// allowed origin, 403 without any for another one. An OPTIONS without
// Origin is not a preflight and just learns the allowed methods.
func (b *Box) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		h.Set("Allow", "OPTIONS, POST")
		w.WriteHeader(http.StatusNoContent)
	case b.allowedOrigin(origin):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusForbidden)
	}
}
