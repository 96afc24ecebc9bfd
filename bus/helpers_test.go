package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// guard bounds every wait in these tests: it only turns a hang into a
// failure, it never decides a result.
const guard = 30 * time.Second

// mode is where a bus keeps its notes: memory on SQLite, or PostgreSQL.
type mode struct {
	name string
	kind string // database kind of the registry
}

// modes lists the bus modes a test runs in: memory always, PostgreSQL
// when configured (required under CI=true).
func modes(t testing.TB) []mode {
	out := []mode{{"memory", "sqlite"}}
	if slices.Contains(modelstest.Kinds(t), "postgres") {
		out = append(out, mode{"postgres", "postgres"})
	}
	return out
}

// env is a running bus behind an httptest server.
type env struct {
	t    testing.TB
	reg  *modelstest.App
	bus  *Bus
	srv  *httptest.Server
	stop func() // cancels Run and waits for it; idempotent
}

// newEnv runs a bus in mode m.
func newEnv(t testing.TB, m mode, opts Options) *env {
	t.Helper()
	dsn := ""
	if m.kind == "postgres" {
		dsn = modelstest.DSN(t, "postgres")
	}
	return runBus(t, dsn, opts)
}

// runBus starts a bus with opts (PostgreSQL mode on dsn, memory mode on a
// fresh SQLite database when dsn is ""), a registry that notifies it,
// and serves its routes.
func runBus(t testing.TB, dsn string, opts Options) *env {
	t.Helper()
	opts.PostgresDSN = dsn
	b := newBus(t, opts)
	if dsn == "" {
		return serveBus(t, modelstest.New(t, modelstest.Options{Notifier: b}), b)
	}
	return serveBus(t, modelstest.Open(t, dsn, modelstest.Options{Notifier: b}), b)
}

// newBus makes a bus logging to the test.
func newBus(t testing.TB, opts Options) *Bus {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = modelstest.LoggerAt(t, slog.LevelDebug)
	}
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// serveBus runs b and serves its routes, checking sessions with reg.
func serveBus(t testing.TB, reg *modelstest.App, b *Bus) *env {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, h := range b.Routes(reg) {
		mux.Handle(pattern, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(guard):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return &env{t: t, reg: reg, bus: b, srv: srv, stop: stop}
}

// session logs uid in and returns the session id.
func (e *env) session(uid int64) string {
	e.t.Helper()
	return modelstest.Session(e.t, e.reg.Registry, uid)
}

// plainUser creates an internal user without MQTT groups and returns its id.
func (e *env) plainUser(login string) int64 {
	e.t.Helper()
	return modelstest.CreateUser(e.t, e.reg.Registry, login, "pw-"+login)
}

// note is a test notification on the realtime channel.
func note(i int) models.Notification {
	return models.Notification{Channel: mqtt.ChannelRealtime, Type: mqtt.NoteMessage, Payload: map[string]any{"n": i, "topic": fmt.Sprintf("t/%d", i)}}
}

// publish notifies notes and waits until the bus has published them all,
// returning them as published. Its own subscription resumes if it is cut
// off as too slow (tests with a tiny SubscriberBuffer).
func (e *env) publish(notes ...models.Notification) []Note {
	e.t.Helper()
	var chans []string
	for _, n := range notes {
		if !slices.Contains(chans, n.Channel) {
			chans = append(chans, n.Channel)
		}
	}
	last := e.bus.LastID()
	sub := e.bus.Subscribe(chans, last)
	defer func() { sub.Close() }()
	e.bus.Notify(context.Background(), notes...)
	var got []Note
	timeout := time.After(guard)
	for len(got) < len(notes) {
		select {
		case batch, ok := <-sub.Notes():
			if ok {
				got = append(got, batch...)
				continue
			}
			if !errors.Is(sub.Err(), ErrTooSlow) {
				e.t.Fatalf("subscription closed after %d of %d notes: %v", len(got), len(notes), sub.Err())
			}
			if len(got) > 0 {
				last = got[len(got)-1].ID
			}
			sub = e.bus.Subscribe(chans, last)
		case <-timeout:
			e.t.Fatalf("published %d of %d notes", len(got), len(notes))
		}
	}
	return got
}

// collect reads n notes from sub.
func collect(t testing.TB, sub *Subscription, n int) []Note {
	t.Helper()
	var got []Note
	timeout := time.After(guard)
	for len(got) < n {
		select {
		case batch, ok := <-sub.Notes():
			if !ok {
				t.Fatalf("subscription closed after %d of %d notes: %v", len(got), n, sub.Err())
			}
			got = append(got, batch...)
		case <-timeout:
			t.Fatalf("got %d of %d notes", len(got), n)
		}
	}
	return got
}

// dial opens a WebSocket with the session cookie sid ("" for none) and,
// when origin is set, an Origin header.
func (e *env) dial(sid, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if sid != "" {
		h.Set("Cookie", "session_id="+sid)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/websocket"
	c, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err == nil {
		e.t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

// mustDial is dial that fails the test on error.
func (e *env) mustDial(sid string) *websocket.Conn {
	e.t.Helper()
	c, _, err := e.dial(sid, "")
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return c
}

// subscribe sends a subscribe frame.
func subscribe(t testing.TB, c *websocket.Conn, channels []string, last int64) {
	t.Helper()
	err := c.WriteJSON(map[string]any{"event_name": "subscribe", "data": map[string]any{"channels": channels, "last": last}})
	if err != nil {
		t.Fatalf("send subscribe: %v", err)
	}
}

// wireNote is a notification as a client reads it.
type wireNote struct {
	ID      int64 `json:"id"`
	Message struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	} `json:"message"`
}

// readNotes reads frames until n notes arrived; every frame must be a
// JSON array of notifications.
func readNotes(t testing.TB, c *websocket.Conn, n int) []wireNote {
	t.Helper()
	var got []wireNote
	_ = c.SetReadDeadline(time.Now().Add(guard))
	defer c.SetReadDeadline(time.Time{})
	for len(got) < n {
		typ, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %d of %d notes: %v", len(got), n, err)
		}
		if typ != websocket.TextMessage {
			t.Fatalf("frame type %d, want text", typ)
		}
		var batch []wireNote
		if err := json.Unmarshal(data, &batch); err != nil {
			t.Fatalf("frame %s is not an array of notifications: %v", data, err)
		}
		got = append(got, batch...)
	}
	if len(got) != n {
		t.Fatalf("got %d notes, want %d", len(got), n)
	}
	return got
}

// readClose reads until the server closes and returns the close code.
// Pings read on the way are not answered: the server may be gone already,
// and a failed pong would end the read before the close frame.
func readClose(t testing.TB, c *websocket.Conn) int {
	t.Helper()
	c.SetPingHandler(func(string) error { return nil })
	_ = c.SetReadDeadline(time.Now().Add(guard))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok {
			t.Fatalf("read ended without a close frame: %v", err)
		}
		return ce.Code
	}
}

// ids returns the ids of notes.
func ids[T Note | wireNote](notes []T) []int64 {
	out := make([]int64, len(notes))
	for i, n := range notes {
		switch x := any(n).(type) {
		case Note:
			out[i] = x.ID
		case wireNote:
			out[i] = x.ID
		}
	}
	return out
}

// subCount is the number of live subscriptions.
func (b *Bus) subCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// discardLogger drops everything (benchmarks).
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
