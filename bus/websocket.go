package bus

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/clientaddr"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/websession"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Close codes of Odoo 16's websocket (bus/websocket.py CloseCode).
const (
	CloseGoingAway        = websocket.CloseGoingAway     // 1001: server shutting down
	CloseTryLater         = websocket.CloseTryAgainLater // 1013: flooding
	CloseMessageTooBig    = websocket.CloseMessageTooBig // 1009: frame over MaxFrameBytes
	CloseSessionExpired   = 4001                         // the session was logged out or expired
	CloseKeepAliveTimeout = 4002                         // no pong (nor anything else) in time
)

// maxNotesPerFrame bounds one server frame; a long replay goes out in
// several.
const maxNotesPerFrame = 500

// closeGrace is how long a closing socket waits for the peer's close frame.
const closeGrace = time.Second

// newUpgrader returns the upgrader every handshake shares. Write buffers
// come from a pool: a thousand idle sockets then hold no write buffer.
func (b *Bus) newUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  16 << 10,
		WriteBufferPool:  &sync.Pool{},
		// A page from another site must not open a socket with the
		// user's cookie (cross-site WebSocket hijacking): 403.
		CheckOrigin: b.origins.Trusted,
	}
}

// serveWebSocket is GET /websocket: Odoo 16's bus protocol. The session
// cookie names the user (anonymous without one, who may subscribe to
// nothing of ours). The handler goroutine reads client frames; one writer
// goroutine per socket sends notes and pings. Both end when the socket
// closes or the bus stops, and Run waits for them.
func (b *endpoints) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	var uid int64
	sid := websession.ID(r)
	if sid != "" {
		sess, err := b.auth.Session(r.Context(), sid)
		switch {
		case err == nil:
			uid = sess.UID
		case errors.Is(err, models.ErrSessionExpired):
			sid = "" // a stale cookie: the public user, as in Odoo
		default:
			b.log.ErrorContext(r.Context(), "Unable to check a bus session", slog.Any("error", err))
			http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	if !b.addConn() {
		http.Error(w, "503 Service Unavailable: the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer b.conns.Done()
	ws, err := b.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade answered (400 bad handshake, 403 foreign origin).
		b.log.DebugContext(r.Context(), "WebSocket handshake refused", slog.Any("error", err), slog.String("origin", r.Header.Get("Origin")))
		return
	}
	defer ws.Close()
	b.metrics.sockets.Inc()
	defer b.metrics.sockets.Dec()

	// After the hijack, nothing cancels the request context but this
	// handler's return: the bus's stop must end the socket too.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(b.stopCtx, cancel)()

	s := newSocket(b, ws, uid, sid, clientaddr.Addr(r))
	b.addSocket(s)
	defer b.removeSocket(s)
	var wg sync.WaitGroup
	wg.Go(func() { s.writeLoop(ctx) })
	s.readLoop(ctx)
	cancel()
	wg.Wait()
	s.closeLeftover()
}

// addConn counts a socket in, unless the bus stopped (then Run may be
// waiting on conns already).
func (b *Bus) addConn() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return false
	}
	b.conns.Add(1)
	return true
}
