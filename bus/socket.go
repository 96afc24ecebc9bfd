package bus

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// socket is one /websocket connection. The handler goroutine runs
// readLoop, one goroutine runs writeLoop; gorilla allows one reader and one
// writer at a time, plus WriteControl from anywhere.
type socket struct {
	b   *endpoints
	ws  *websocket.Conn
	log *slog.Logger
	sid string // "" for an anonymous socket
	uid int64  // read and written by the reader only

	// subs hands the reader's latest subscription to the writer, which
	// owns it from then on (capacity 1: a newer one replaces an untaken one).
	subs chan subscribed
	// grants hands the writer the channels the user may read now, from
	// watchAccess (capacity 1: a newer set replaces an untaken one).
	grants chan map[string]bool

	closing   atomic.Bool // a close frame was sent or the socket is being torn down
	closeOnce sync.Once
	dlMu      sync.Mutex // orders read-deadline moves with closing

	tokens float64   // flood control, reader only
	refill time.Time // when tokens was last topped up

	frame []byte // the writer's frame buffer, reused
}

// subscribed is a subscription and the id the client said it had seen.
type subscribed struct {
	sub  *Subscription
	last int64
}

// newSocket's addr is the client's address for the logs (clientaddr.Addr:
// behind a trusted proxy the client's, not the proxy's).
func newSocket(b *endpoints, ws *websocket.Conn, uid int64, sid, addr string) *socket {
	return &socket{
		b: b, ws: ws, uid: uid, sid: sid,
		log:    b.log.With(slog.String("remote_addr", addr), slog.Int64("uid", uid)),
		subs:   make(chan subscribed, 1),
		grants: make(chan map[string]bool, 1),
		tokens: float64(b.opts.FloodFrames),
		refill: time.Now(),
	}
}

// clientFrame is what a client sends: {"event_name": .., "data": ..}.
type clientFrame struct {
	EventName string          `json:"event_name"`
	Data      json.RawMessage `json:"data"`
}

// readLoop reads client frames until the socket fails or closes. Any frame,
// pong or ping proves the client alive; nothing for PingInterval +
// PongTimeout closes the socket with 4002.
func (s *socket) readLoop(ctx context.Context) {
	s.ws.SetReadLimit(s.b.opts.MaxFrameBytes)
	s.alive()
	s.ws.SetPongHandler(func(string) error { s.alive(); return nil })
	pong := s.ws.PingHandler()
	s.ws.SetPingHandler(func(data string) error { s.alive(); return pong(data) })
	for {
		typ, data, err := s.ws.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case s.closing.Load():
			case errors.As(err, &ne) && ne.Timeout():
				s.closeWith(CloseKeepAliveTimeout, "keep-alive timeout")
			case errors.Is(err, websocket.ErrReadLimit):
				s.log.DebugContext(ctx, "WebSocket frame too large; closed")
			default:
				s.log.DebugContext(ctx, "WebSocket closed by the client", slog.Any("error", err))
			}
			return
		}
		if s.closing.Load() {
			continue // waiting for the client's close frame
		}
		s.alive()
		if !s.allow() {
			s.log.WarnContext(ctx, "WebSocket flooding; closed")
			s.closeWith(CloseTryLater, "too many messages")
			continue
		}
		if typ != websocket.TextMessage {
			s.log.DebugContext(ctx, "Ignored a binary WebSocket frame")
			continue
		}
		s.handle(ctx, data)
	}
}

// handle acts on one client frame. Bad JSON and unknown events are logged
// and ignored, as Odoo does; the socket stays open.
func (s *socket) handle(ctx context.Context, data []byte) {
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		s.log.DebugContext(ctx, "Ignored a malformed WebSocket frame", slog.Any("error", err))
		return
	}
	switch f.EventName {
	case "subscribe":
		s.subscribe(ctx, f.Data)
	case "update_presence":
		// Presence (im_status) is not tracked by this server.
	default:
		s.log.DebugContext(ctx, "Ignored a WebSocket event", slog.String("event_name", f.EventName))
	}
}

// subscribe replaces the socket's subscription. The session is checked
// again first (4001 when it ended); channels the user may not read are
// dropped silently.
func (s *socket) subscribe(ctx context.Context, data json.RawMessage) {
	var d struct {
		Channels json.RawMessage `json:"channels"`
		Last     json.RawMessage `json:"last"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		s.log.DebugContext(ctx, "Ignored a malformed subscribe", slog.Any("error", err))
		return
	}
	channels, err := stringList(d.Channels)
	if err != nil {
		s.log.DebugContext(ctx, "Ignored a subscribe with non-string channels")
		return
	}
	last, err := lastID(d.Last)
	if err != nil {
		s.log.DebugContext(ctx, "Ignored a subscribe with a bad last id")
		return
	}
	if !s.sessionValid(ctx) {
		s.closeWith(CloseSessionExpired, "session expired")
		return
	}
	sub := s.b.Subscribe(s.b.allowedChannels(ctx, s.uid, channels), last)
	select {
	case old := <-s.subs:
		old.sub.Close()
	default:
	}
	s.subs <- subscribed{sub: sub, last: last}
}

// sessionValid re-checks the socket's session. A database error keeps the
// socket: it is not the client's fault.
func (s *socket) sessionValid(ctx context.Context) bool {
	if s.sid == "" {
		return true
	}
	_, err := s.b.auth.Session(ctx, s.sid)
	if err != nil && !errors.Is(err, models.ErrSessionExpired) {
		s.log.WarnContext(ctx, "Unable to re-check a bus session", slog.Any("error", err))
		return true
	}
	return err == nil
}

// writeLoop sends notes as they come, pings, and re-checks the session,
// until ctx ends (socket done or bus stopped) or a write fails.
func (s *socket) writeLoop(ctx context.Context) {
	opts := s.b.opts
	ping := time.NewTicker(opts.PingInterval)
	defer ping.Stop()
	check := time.NewTicker(opts.SessionCheckInterval)
	defer check.Stop()
	var (
		sub  *Subscription
		feed <-chan []Note
		pos  int64 // where to resume: the client's last, then the last id sent
	)
	defer func() {
		if sub != nil {
			sub.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			if s.b.stopCtx.Err() != nil {
				s.flush(feed)
				s.closeWith(CloseGoingAway, "server shutting down")
			}
			return
		case next := <-s.subs:
			if sub != nil {
				sub.Close()
			}
			sub, feed, pos = next.sub, next.sub.Notes(), next.last
		case allowed := <-s.grants:
			if narrowed := s.narrow(ctx, sub, pos, allowed); narrowed != sub {
				sub, feed = narrowed, narrowed.Notes()
			}
		case notes, ok := <-feed:
			if !ok {
				switch err := sub.Err(); {
				case errors.Is(err, ErrTooSlow):
					// The socket could not keep up for a while: resume from
					// what it got, out of the buffer, as a client would.
					s.log.DebugContext(ctx, "Slow WebSocket resumed from the buffer", slog.Int64("last", pos))
					sub = s.b.Subscribe(sub.list, pos)
					feed = sub.Notes()
				case errors.Is(err, ErrStopped):
					s.closeWith(CloseGoingAway, "server shutting down")
					return
				default:
					feed = nil
				}
				continue
			}
			if len(notes) == 0 {
				continue
			}
			if err := s.send(notes); err != nil {
				s.log.DebugContext(ctx, "WebSocket write failed", slog.Any("error", err))
				s.abort()
				return
			}
			pos = notes[len(notes)-1].ID
		case <-ping.C:
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(opts.WriteTimeout)); err != nil {
				s.abort()
				return
			}
		case <-check.C:
			if !s.sessionValid(ctx) {
				s.closeWith(CloseSessionExpired, "session expired")
				return
			}
		}
	}
}

// flush sends what the subscription delivered before the bus stopped (the
// stop closes subscriptions before it cancels the sockets), so that a note
// published before a shutdown still reaches the client.
func (s *socket) flush(feed <-chan []Note) {
	for {
		select {
		case notes, ok := <-feed:
			if !ok || s.send(notes) != nil {
				return
			}
		default:
			return
		}
	}
}

// send writes notes as JSON-array frames of up to maxNotesPerFrame notes,
// from each note's wire bytes (encoded once for every socket).
func (s *socket) send(notes []Note) error {
	for len(notes) > 0 {
		n := min(len(notes), maxNotesPerFrame)
		s.frame = appendWire(s.frame[:0], notes[:n])
		if err := s.ws.SetWriteDeadline(time.Now().Add(s.b.opts.WriteTimeout)); err != nil {
			return err
		}
		if err := s.ws.WriteMessage(websocket.TextMessage, s.frame); err != nil {
			return err
		}
		if cap(s.frame) > 64<<10 {
			s.frame = nil // with 1,000 sockets, big frames kept per socket add up to hundreds of MB
		}
		notes = notes[n:]
	}
	return nil
}

// alive pushes the read deadline out: the client showed a sign of life.
func (s *socket) alive() {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if !s.closing.Load() {
		_ = s.ws.SetReadDeadline(time.Now().Add(s.b.opts.PingInterval + s.b.opts.PongTimeout))
	}
}

// closeWith starts the closing handshake with code, once: the reader then
// waits up to closeGrace for the client's close frame.
func (s *socket) closeWith(code int, text string) {
	s.closeOnce.Do(func() {
		s.dlMu.Lock()
		defer s.dlMu.Unlock()
		s.closing.Store(true)
		_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(s.b.opts.WriteTimeout))
		_ = s.ws.SetReadDeadline(time.Now().Add(closeGrace))
	})
}

// abort ends the socket without a handshake (the writer found it broken):
// the reader returns at once.
func (s *socket) abort() {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	s.closing.Store(true)
	_ = s.ws.SetReadDeadline(time.Now())
}

// allow is the flood control: a token bucket of FloodFrames refilled over
// FloodWindow.
func (s *socket) allow() bool {
	now := time.Now()
	o := s.b.opts
	s.tokens = min(float64(o.FloodFrames), s.tokens+now.Sub(s.refill).Seconds()*float64(o.FloodFrames)/o.FloodWindow.Seconds())
	s.refill = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// closeLeftover closes a subscription the reader handed over after the
// writer had stopped.
func (s *socket) closeLeftover() {
	select {
	case left := <-s.subs:
		left.sub.Close()
	default:
	}
}
