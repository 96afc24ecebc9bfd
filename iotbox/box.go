package iotbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/origin"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Routes of the box (odoo-rpc.md §6.3).
const (
	ActionPath = "/hw_drivers/action"
	EventPath  = "/hw_drivers/event"
)

// Options configure a Box. Zero values take the defaults named below.
type Options struct {
	Logger *slog.Logger
	// AllowedOrigins are the origins ("https://shop.example.com", scheme,
	// host and port as browsers send them) that may call the routes from
	// another site: they get CORS headers and pass the cross-site check.
	// Empty: same-origin only.
	AllowedOrigins []string
	// PublicUser is the login requests run as when they carry no valid
	// session but come from an allowed origin (the box itself needs no
	// login). Empty: a session is required.
	PublicUser string
	// PollTimeout is how long /hw_drivers/event waits for an event;
	// default 50 s, as the box. The HTTP server's write timeout must be
	// longer.
	PollTimeout time.Duration
	// Buffer is how long an event stays replayable; default 60 s (the box
	// keeps 5 s, which loses events whenever a client re-polls late).
	Buffer time.Duration
	// BufferMax bounds the events kept; default 10000.
	BufferMax int
	// BufferMaxBytes bounds the events kept in bytes too (device
	// identifier and encoded event, plus a per-event overhead); the oldest
	// go first. Default 8 MiB.
	BufferMaxBytes int64
	// MaxBody is the largest request body; default 1 MiB.
	MaxBody int64
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 50 * time.Second
	}
	if o.Buffer <= 0 {
		o.Buffer = 60 * time.Second
	}
	if o.BufferMax <= 0 {
		o.BufferMax = 10000
	}
	if o.BufferMaxBytes <= 0 {
		o.BufferMaxBytes = 8 << 20
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	return o
}

// Box serves the IoT box routes. Build it with New, start Run, mount
// Routes.
type Box struct {
	reg    *models.Registry
	events EventSource
	opts   Options
	log    *slog.Logger
	now    func() time.Time // tests set a fake clock

	origins origin.Policy

	ring      *ring
	listeners *listeners
	actions   *actions

	stopOnce sync.Once
	stopped  chan struct{} // closed when Run ends: waiting polls return
}

// New returns a Box serving devices of reg with events from events.
// AllowedOrigins follow internal/origin (case and a trailing slash do not
// matter); malformed entries are logged and ignored.
func New(reg *models.Registry, events EventSource, opts Options) *Box {
	opts = opts.withDefaults()
	b := &Box{
		reg:       reg,
		events:    events,
		opts:      opts,
		log:       opts.Logger,
		now:       time.Now,
		origins:   origin.New(opts.AllowedOrigins),
		ring:      newRing(opts.Buffer.Seconds(), opts.BufferMax, opts.BufferMaxBytes),
		listeners: newListeners(),
		actions:   newActions(),
		stopped:   make(chan struct{}),
	}
	for _, o := range opts.AllowedOrigins {
		if origin.Normalize(o) == "" {
			b.log.Warn("Ignoring an allowed IoT origin that is not an http(s) origin", slog.String("origin", o))
		}
	}
	return b
}

// Routes returns the handlers keyed by method pattern, for
// chi.Router.Handle or http.ServeMux.Handle.
func (b *Box) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST " + ActionPath:    b.post(b.serveAction),
		"OPTIONS " + ActionPath: http.HandlerFunc(b.preflight),
		"POST " + EventPath:     b.post(b.serveEvent),
		"OPTIONS " + EventPath:  http.HandlerFunc(b.preflight),
	}
}

// post wraps a POST handler with CORS headers, the cross-site check
// (before the body is read: nothing is done for a forged request), a
// recover that answers with an envelope rather than a dropped connection,
// the envelope and the caller's uid. Every failure before h is answered.
func (b *Box) post(h func(w http.ResponseWriter, r *http.Request, req *jsonrpc.Request, uid int64)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.corsHeaders(w, r)
		// Answers of a long poll and of an action are never reusable.
		w.Header().Set("Cache-Control", "no-store")
		if !b.origins.Trusted(r) {
			jsonrpc.WriteError(w, http.StatusForbidden, nil, jsonrpc.NewError(jsonrpc.CodeForbidden, jsonrpc.MsgForbidden, jsonrpc.NameForbidden,
				"Cross-site request from an origin that is not allowed"))
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("IoT box handler panicked on %s: %v\n%s", r.URL.Path, v, debug.Stack())
				jsonrpc.WriteError(w, http.StatusOK, nil, jsonrpc.Internal(r.Context(), b.log, err).JSON())
			}
		}()
		req, ok := readRequest(w, r, b.opts.MaxBody)
		if !ok {
			return
		}
		uid, err := b.caller(r)
		if err != nil {
			b.writeFailure(w, r, req.ID, err)
			return
		}
		h(w, r, req, uid)
	})
}

// stop releases the waiting polls and makes new ones return at once.
func (b *Box) stop() { b.stopOnce.Do(func() { close(b.stopped) }) }

// nowSec is the clock in epoch seconds, the box's time unit.
func (b *Box) nowSec() float64 { return epoch(b.now()) }

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
