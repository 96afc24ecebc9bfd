package main

// A /websocket client as the admin pages run one: the session cookie on
// the handshake, one subscribe frame for mqtt_realtime, then notification
// frames. It reads each frame into a buffer of its own and scans it
// (wire.go) instead of decoding it, so that a thousand of them cost the
// bench less than the server.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

var wsDialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}

// socket is one connected, subscribed client. onNote runs in its reader
// goroutine only, with the time the frame was read.
type socket struct {
	conn   *websocket.Conn
	onNote func(n wireNote, at time.Time)

	notes  atomic.Int64 // notes received, any
	lastID int64        // reader only: highest bus id so far
	dup    int64        // reader only: notes whose id was not above lastID
	err    error        // reader only: why reading stopped, nil after close
	closed atomic.Bool
}

// highestID is the highest bus id any socket of this bench has seen: a
// new socket subscribes from there, so it is not sent the whole buffer
// (10,000 notes) as a replay.
var highestID atomic.Int64

// dialSocket opens /websocket with the session cookie sid and subscribes
// to mqtt_realtime from the id last.
func dialSocket(ctx context.Context, base, sid string, last int64, onNote func(wireNote, time.Time)) (*socket, error) {
	h := http.Header{}
	h.Set("Cookie", "session_id="+sid)
	conn, resp, err := wsDialer.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/websocket", h)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, fmt.Errorf("open /websocket: %w", err)
	}
	frame, _ := json.Marshal(map[string]any{"event_name": "subscribe",
		"data": map[string]any{"channels": []string{mqtt.ChannelRealtime}, "last": last}})
	if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		conn.Close()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return &socket{conn: conn, onNote: onNote}, nil
}

// read runs the reader until the socket closes; gorilla answers the
// server's pings from inside it.
func (s *socket) read() {
	var buf bytes.Buffer
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			if !s.closed.Load() {
				s.err = err
			}
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			if !s.closed.Load() {
				s.err = err
			}
			return
		}
		at := time.Now()
		scanNotes(buf.Bytes(), func(n wireNote) {
			s.notes.Add(1)
			if n.id <= s.lastID {
				s.dup++
				return
			}
			s.lastID = n.id
			for {
				h := highestID.Load()
				if n.id <= h || highestID.CompareAndSwap(h, n.id) {
					break
				}
			}
			if s.onNote != nil {
				s.onNote(n, at)
			}
		})
	}
}

// close says goodbye (close frame 1000) and closes the connection, once;
// the reader then returns.
func (s *socket) close() {
	if s.closed.Swap(true) {
		return
	}
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	s.conn.Close()
}
