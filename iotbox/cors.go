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

// listedOrigin returns the request's Origin header when it names one of
// Options.AllowedOrigins. The header is echoed as sent: browsers compare
// it byte for byte with their own serialisation.
func (b *Box) listedOrigin(r *http.Request) (string, bool) {
	if _, ok := b.origins.Listed(r); ok {
		return r.Header.Get("Origin"), true
	}
	return "", false
}

// corsHeaders adds Access-Control-Allow-Origin for an allowed origin.
// Vary is always set: the answer depends on Origin.
func (b *Box) corsHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if o, ok := b.listedOrigin(r); ok {
		h.Set("Access-Control-Allow-Origin", o)
	}
}

// preflight answers OPTIONS: 204 with the box's CORS headers for an
// allowed origin, 403 without any for another one. An OPTIONS without
// Origin is not a preflight and just learns the allowed methods.
func (b *Box) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	o, listed := b.listedOrigin(r)
	switch {
	case r.Header.Get("Origin") == "":
		h.Set("Allow", "OPTIONS, POST")
		w.WriteHeader(http.StatusNoContent)
	case listed:
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusForbidden)
	}
}
