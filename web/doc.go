// Package web serves the admin pages: a login page, the app shell and its
// static assets (plain HTML, CSS and ES modules, embedded in the binary,
// no build step). The pages speak to the server only through the public
// JSON-RPC routes (/web/session/*, /web/dataset/call_kw, call_button), the
// bus (/websocket) and the IoT-box routes (/hw_drivers/*), the same ones
// any browser widget uses; this package serves files and nothing else.
//
// Every response carries a strict Content-Security-Policy: no inline
// script or style, so the pages build their DOM with textContent and
// createElement and data can never become markup.
package web
