package main

// What the HTTP server does against clients that hold its resources: slow
// bodies (a total read deadline per request), idle connections, and too
// many requests from one address at once. The timeouts of the server
// itself are set in newHTTPServer; the two middlewares here run in front
// of every route, after clientaddr.Resolver's (app.routes).

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/clientaddr"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iotbox"
	"github.com/prometheus/client_golang/prometheus"
)

// newHTTPServer returns the server for h with the configured timeouts.
// There is deliberately no ReadTimeout: net/http would keep that deadline
// on the connection after the body, so it would end websockets and cancel
// long polls; bodyDeadline bounds the body instead, per request.
func newHTTPServer(cfg Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.HTTPHeaderTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// bodyDeadline gives a request with a body timeout to read all of it,
// counted from when its handler starts, however slowly it trickles in
// (a slow-loris client sending a byte every few seconds is cut off). The
// deadline is lifted once the body has been read to its end, so a long
// poll that waits after reading its small body keeps waiting, and
// requests without a body (a websocket handshake, a GET) never get one.
// When it passes, the handler's read fails and net/http closes the
// connection after the answer.
func bodyDeadline(timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || isWebSocket(r) {
				next.ServeHTTP(w, r)
				return
			}
			rc := http.NewResponseController(w)
			if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
				// Only a ResponseWriter that is not net/http's fails here
				// (tests' recorders); nothing to bound then.
				next.ServeHTTP(w, r)
				return
			}
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, left: r.ContentLength}
			next.ServeHTTP(w, r)
		})
	}
}

// deadlineBody lifts the read deadline once the body is fully read: at
// io.EOF, or when all ContentLength bytes have come. A body cut short
// keeps the deadline, which then also bounds what net/http reads of it
// after the handler.
type deadlineBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	left   int64 // bytes still expected; -1 for a chunked body
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.left > 0 {
		b.left -= int64(n)
	}
	if !b.lifted && (err == io.EOF || b.left == 0) {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// isWebSocket reports a websocket handshake (RFC 6455 §4.1).
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// isStream reports a request that stays open by design: a websocket, or
// the IoT box's long poll, which waits up to 50 s for an event.
func isStream(r *http.Request) bool {
	return isWebSocket(r) || (r.Method == http.MethodPost && r.URL.Path == iotbox.EventPath)
}

// clientLimiter caps what one client address (clientaddr.Key: the peer, or
// in proxy mode the client a trusted proxy named) may have running at once, in two budgets: ordinary requests, and streams
// (websockets and long polls, which last minutes or hours and would
// otherwise use up the budget of ordinary calls, or be refused by it). A
// cap of 0 means no cap. Over the cap the answer is HTTP 429 with a
// Retry-After and a plain-text reason.
type clientLimiter struct {
	maxRequests, maxStreams int
	refused                 *prometheus.CounterVec
	log                     *slog.Logger

	mu      sync.Mutex
	running map[limitKey]int // entries at zero are deleted
}

type limitKey struct {
	addr   string
	stream bool
}

func newClientLimiter(maxRequests, maxStreams int, metrics prometheus.Registerer, log *slog.Logger) *clientLimiter {
	l := &clientLimiter{
		maxRequests: maxRequests, maxStreams: maxStreams, log: log, running: map[limitKey]int{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "odoo_iot_mqtt_http_refused_total",
			Help: "HTTP requests refused with 429 because their client address had too many running (kind request) or open websockets and long polls (kind stream).",
		}, []string{"kind"}),
	}
	if metrics != nil {
		metrics.MustRegister(l.refused)
	}
	return l
}

// acquire takes a place for k, or reports that k is at its cap.
func (l *clientLimiter) acquire(k limitKey) bool {
	max := l.maxRequests
	if k.stream {
		max = l.maxStreams
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if max > 0 && l.running[k] >= max {
		return false
	}
	l.running[k]++
	return true
}

func (l *clientLimiter) release(k limitKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[k]--; l.running[k] <= 0 {
		delete(l.running, k)
	}
}

// middleware counts every request against its address's budget for the
// time its handler runs (a websocket's handler runs as long as the socket).
func (l *clientLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := limitKey{addr: clientaddr.Key(r), stream: isStream(r)}
		if !l.acquire(k) {
			l.refuse(w, r, k)
			return
		}
		defer l.release(k)
		next.ServeHTTP(w, r)
	})
}

func (l *clientLimiter) refuse(w http.ResponseWriter, r *http.Request, k limitKey) {
	kind, msg := "request", fmt.Sprintf("429 Too Many Requests: this address already has %d requests running, the most allowed at once (--max-requests-per-addr); retry when one has finished.", l.maxRequests)
	if k.stream {
		kind, msg = "stream", fmt.Sprintf("429 Too Many Requests: this address already has %d websockets and long polls open, the most allowed at once (--max-streams-per-addr); close one or retry later.", l.maxStreams)
	}
	l.refused.WithLabelValues(kind).Inc()
	l.log.DebugContext(r.Context(), "Request refused: too many at once from one address",
		slog.String("remote_addr", k.addr), slog.String("kind", kind), slog.String("path", r.URL.Path))
	w.Header().Set("Retry-After", "1")
	// The body is not read: close the connection after the answer, and
	// let net/http's read of what is left fail at once rather than wait
	// for a client that may be trickling it.
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	http.Error(w, msg, http.StatusTooManyRequests)
}
