package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

var realtime = []string{mqtt.ChannelRealtime}

// TestWebSocketSubscribe: a logged-in client subscribes and receives
// notes as JSON arrays of {id, message: {type, payload}}, replay first,
// then live, in order and once each; resuming from an id skips what it had.
func TestWebSocketSubscribe(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			e := newEnv(t, m, Options{})
			sid := e.session(models.AdminUID)
			old := e.publish(note(1), note(2), note(3))

			c := e.mustDial(sid)
			subscribe(t, c, realtime, old[0].ID)
			replay := readNotes(t, c, 2)
			live := e.publish(note(4))
			got := append(replay, readNotes(t, c, 1)...)
			want := append(ids(old[1:]), live[0].ID)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("got ids %v, want %v", ids(got), want)
			}
			if got[2].Message.Type != mqtt.NoteMessage || !bytes.Equal(got[2].Message.Payload, live[0].Payload) {
				t.Fatalf("live note %+v, want type %s payload %s", got[2], mqtt.NoteMessage, live[0].Payload)
			}

			// A new subscribe frame replaces the subscription and its
			// position: from the future means everything buffered.
			subscribe(t, c, realtime, 1<<40)
			if got := readNotes(t, c, 4); !slices.Equal(ids(got), append(ids(old), live[0].ID)) {
				t.Fatalf("after a future last: %v", ids(got))
			}
		})
	}
}

// TestWebSocketFrameShape: the exact bytes of a frame, as Odoo's client
// reads them.
func TestWebSocketFrameShape(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	c := e.mustDial(e.session(models.AdminUID))
	subscribe(t, c, realtime, e.bus.LastID())
	n := e.publish(models.Notification{Channel: mqtt.ChannelRealtime, Type: mqtt.NoteMessage, Payload: map[string]any{"topic": "a/b", "qos": 1}})
	_ = c.SetReadDeadline(time.Now().Add(guard))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"id":` + jsonInt(n[0].ID) + `,"message":{"type":"mqtt_message","payload":{"qos":1,"topic":"a/b"}}}]`
	if string(data) != want {
		t.Fatalf("frame\n%s\nwant\n%s", data, want)
	}
}

func jsonInt(i int64) string { b, _ := json.Marshal(i); return string(b) }

// TestWebSocketACL: channels the user may not read are dropped silently:
// a user without MQTT groups and an anonymous client end up subscribed to
// nothing, while the administrator gets the same replay.
func TestWebSocketACL(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	notes := e.publish(note(1), note(2))
	plain := e.session(e.plainUser("plain"))
	for _, who := range []struct{ name, sid string }{{"no MQTT group", plain}, {"anonymous", ""}, {"stale cookie", strings.Repeat("ab", 20)}} {
		t.Run(who.name, func(t *testing.T) {
			c := e.mustDial(who.sid)
			subscribe(t, c, []string{mqtt.ChannelRealtime, mqtt.ChannelListener, iotdevice.ChannelDevices, "broadcast"}, 0)
			testkit.Eventually(t, guard, "the subscription", func() bool { return e.bus.subCount() == 1 })
			e.bus.mu.Lock()
			var chans []string
			for s := range e.bus.subs {
				chans = s.list
			}
			e.bus.mu.Unlock()
			if len(chans) != 0 {
				t.Fatalf("subscribed to %v, want nothing", chans)
			}
			c.Close()
			testkit.Eventually(t, guard, "the socket to end", func() bool { return e.bus.subCount() == 0 })
		})
	}
	admin := e.mustDial(e.session(models.AdminUID))
	subscribe(t, admin, []string{mqtt.ChannelRealtime, "broadcast"}, 0)
	if got := readNotes(t, admin, 2); !slices.Equal(ids(got), ids(notes)) {
		t.Fatalf("admin got %v, want %v", ids(got), ids(notes))
	}
}

// TestWebSocketIgnoresJunk: bad JSON, unknown events, malformed subscribes
// and binary frames are ignored and the socket stays usable.
func TestWebSocketIgnoresJunk(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	c := e.mustDial(e.session(models.AdminUID))
	for _, junk := range []string{
		`not json`, `[1,2]`, `{}`, `{"event_name":"nope","data":{}}`,
		`{"event_name":"subscribe","data":{"channels":[1,2],"last":0}}`,
		`{"event_name":"subscribe","data":{"channels":"mqtt_realtime"}}`,
		`{"event_name":"subscribe","data":{"channels":["mqtt_realtime"],"last":"x"}}`,
		`{"event_name":"subscribe","data":7}`,
		`{"event_name":"update_presence","data":{"inactivity_period":1000,"im_status_ids_by_model":{}}}`,
	} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(junk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	subscribe(t, c, realtime, e.bus.LastID())
	n := e.publish(note(1))
	if got := readNotes(t, c, 1); got[0].ID != n[0].ID {
		t.Fatalf("got %v, want %d", ids(got), n[0].ID)
	}
	if e.bus.subCount() != 1 {
		t.Fatalf("%d subscriptions, want 1 (the junk must not have subscribed)", e.bus.subCount())
	}
}

// TestWebSocketOrigin: a page from a foreign origin cannot open a socket
// with the user's cookie; the server's own origin, listed origins and
// non-browser clients (no Origin) can.
func TestWebSocketOrigin(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{AllowedOrigins: []string{"https://erp.example.com/"}})
	sid := e.session(models.AdminUID)
	cases := []struct {
		origin string
		status int
	}{
		{"", http.StatusSwitchingProtocols},
		{e.srv.URL, http.StatusSwitchingProtocols},
		{"https://ERP.example.com", http.StatusSwitchingProtocols},
		{"https://evil.example.com", http.StatusForbidden},
		{"http://erp.example.com", http.StatusForbidden},
		{"null", http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.origin, func(t *testing.T) {
			conn, resp, err := e.dial(sid, c.origin)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d (%v), want %d", resp.StatusCode, err, c.status)
			}
			if conn != nil {
				conn.Close()
			}
		})
	}
}

// TestWebSocketFanOut: fifty clients all receive every note, in order.
func TestWebSocketFanOut(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	sid := e.session(models.AdminUID)
	const clients, count = 50, 200
	start := e.bus.LastID()
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conns[i] = e.mustDial(sid)
		subscribe(t, conns[i], realtime, start)
	}
	var notes []models.Notification
	for i := range count {
		notes = append(notes, note(i))
	}
	want := ids(e.publish(notes...))
	var wg sync.WaitGroup
	got := make([][]int64, clients)
	for i, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(guard))
			for len(got[i]) < count {
				var batch []wireNote
				if err := c.ReadJSON(&batch); err != nil {
					return
				}
				got[i] = append(got[i], ids(batch)...)
			}
		})
	}
	wg.Wait()
	for i := range got {
		if !slices.Equal(got[i], want) {
			t.Fatalf("client %d got %d notes %v..., want %d in order", i, len(got[i]), head(got[i]), count)
		}
	}
}

func head(s []int64) []int64 { return s[:min(len(s), 10)] }

// TestWebSocketSlowClient: a client that stops reading while notes keep
// coming falls behind; the server resumes it from the buffer and it still
// gets every note once, in order.
func TestWebSocketSlowClient(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{SubscriberBuffer: 4, MaxBuffered: 5000, WriteTimeout: time.Minute})
	c := e.mustDial(e.session(models.AdminUID))
	start := e.bus.LastID()
	subscribe(t, c, realtime, start)
	testkit.Eventually(t, guard, "the subscription", func() bool { return e.bus.subCount() == 1 })
	big := strings.Repeat("x", 64<<10)
	var want []int64
	// Publish until the socket's writer, blocked on a full TCP window,
	// left its feed overflowing at least once.
	for e.slowCount() == 0 && len(want) < 1500 {
		var batch []models.Notification
		for i := range 20 {
			batch = append(batch, models.Notification{Channel: mqtt.ChannelRealtime, Type: "big", Payload: map[string]any{"i": len(want) + i, "pad": big}})
		}
		want = append(want, ids(e.publish(batch...))...)
	}
	if e.slowCount() == 0 {
		t.Fatalf("the client never fell behind after %d notes", len(want))
	}
	got := readNotes(t, c, len(want))
	if !slices.Equal(ids(got), want) {
		t.Fatalf("got %d notes, not %d in order once each", len(got), len(want))
	}
}

func (e *env) slowCount() float64 {
	var m dto.Metric
	_ = e.bus.metrics.slow.Write(&m)
	return m.GetCounter().GetValue()
}

// TestWebSocketShutdown: stopping the bus closes every socket with 1001
// and Run returns only once they are gone.
func TestWebSocketShutdown(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	sid := e.session(models.AdminUID)
	var conns []*websocket.Conn
	for i := range 5 {
		c := e.mustDial(sid)
		if i%2 == 0 {
			subscribe(t, c, realtime, 0)
		}
		conns = append(conns, c)
	}
	testkit.Eventually(t, guard, "the subscriptions", func() bool { return e.bus.subCount() == 3 })
	e.stop()
	for i, c := range conns {
		if code := readClose(t, c); code != CloseGoingAway {
			t.Fatalf("socket %d closed with %d, want %d", i, code, CloseGoingAway)
		}
	}
	if _, resp, err := e.dial(sid, ""); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after stop: %v, want 503", err)
	}
}

// TestWebSocketCloseCodes: the server's reasons to close a socket.
func TestWebSocketCloseCodes(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond, MaxFrameBytes: 1024})
	cases := []struct {
		name string
		act  func(t *testing.T, c *websocket.Conn, sid string)
		want int
	}{
		{"keep-alive timeout", func(t *testing.T, c *websocket.Conn, sid string) {
			// Not reading means not answering pings: wait, without reading,
			// until the server gave up on the socket.
			testkit.Eventually(t, guard, "the socket to open", func() bool { return e.bus.socketCount() == 1 })
			testkit.Eventually(t, guard, "the server to give up", func() bool { return e.bus.socketCount() == 0 })
		}, CloseKeepAliveTimeout},
		{"session ended", func(t *testing.T, c *websocket.Conn, sid string) {
			if err := e.reg.DeleteSession(context.Background(), sid); err != nil {
				t.Fatal(err)
			}
			subscribe(t, c, realtime, 0)
		}, CloseSessionExpired},
		{"flooding", func(t *testing.T, c *websocket.Conn, sid string) {
			for range 500 {
				if c.WriteMessage(websocket.TextMessage, []byte(`{"event_name":"update_presence","data":{}}`)) != nil {
					break // the server closed already
				}
			}
		}, CloseTryLater},
		{"frame too large", func(t *testing.T, c *websocket.Conn, sid string) {
			_ = c.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 2048))
		}, CloseMessageTooBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sid := e.session(models.AdminUID)
			c := e.mustDial(sid)
			tc.act(t, c, sid)
			if code := readClose(t, c); code != tc.want {
				t.Fatalf("closed with %d, want %d", code, tc.want)
			}
			testkit.Eventually(t, guard, "the socket to end", func() bool { return e.bus.socketCount() == 0 })
		})
	}
}

// TestWebSocketPings: a client that reads answers the pings (gorilla does)
// and stays connected across many ping intervals.
func TestWebSocketPings(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{PingInterval: 20 * time.Millisecond, PongTimeout: 2 * time.Second})
	c := e.mustDial(e.session(models.AdminUID))
	pings := make(chan struct{}, 100)
	c.SetPingHandler(func(data string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	subscribe(t, c, realtime, e.bus.LastID())
	received := make(chan []wireNote, 10)
	go func() {
		defer close(received)
		_ = c.SetReadDeadline(time.Now().Add(guard))
		for {
			var batch []wireNote
			if err := c.ReadJSON(&batch); err != nil {
				return
			}
			received <- batch
		}
	}()
	for range 10 {
		select {
		case <-pings:
		case <-time.After(guard):
			t.Fatal("no ping")
		}
	}
	n := e.publish(note(1))
	if got := <-received; len(got) != 1 || got[0].ID != n[0].ID {
		t.Fatalf("after 10 pings got %v, want [%d]", ids(got), n[0].ID)
	}
	e.stop()
	for range received {
	}
}

// socketCount is the number of open sockets.
func (b *Bus) socketCount() int {
	var m dto.Metric
	_ = b.metrics.sockets.Write(&m)
	return int(m.GetGauge().GetValue())
}
