package iotbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bus"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/websession"
	mqttlistener "github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// The HTTP tests run the box on a real registry (SQLite) with a real bus,
// mounted on chi as the server mounts it, and talk to it over HTTP.

// waitLimit bounds every wait for something that must happen, so that a
// bug fails the test instead of hanging it. It is not a timing assertion:
// all of these happen in microseconds.
const waitLimit = 10 * time.Second

type fixture struct {
	reg   *modelstest.App
	svc   *mqttlistener.Service // nil unless the test runs the listener
	bus   *bus.Bus
	box   *Box
	srv   *httptest.Server
	sid   string // a session of admin
	clock *fakeClock
}

// fakeClock is the box's clock: the real time, plus what tests that need
// time to pass have advanced it by.
type fakeClock struct{ offset atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *fakeClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// newFixture starts a registry, a bus and a box with opts. Cleanup ends
// the box first (releasing any poll still waiting), then the server.
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	modelstest.CheckLeaks(t)
	b, err := bus.New(bus.Options{Logger: modelstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{bus: b, clock: &fakeClock{}}
	reg := modelstest.New(t, modelstest.Options{Notifier: b, Control: func() mqtt.BrokerControl {
		if f.svc == nil { // a test that drives devices starts one
			return nil
		}
		return f.svc
	}})
	if opts.Logger == nil {
		opts.Logger = modelstest.Logger(t)
	}
	box := New(reg.Registry, b, opts)
	box.now = f.clock.now
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := b.Run(ctx); err != nil {
			t.Errorf("bus: %v", err)
		}
	})
	wg.Go(func() {
		if err := box.Run(ctx); err != nil {
			t.Errorf("box: %v", err)
		}
	})
	r := chi.NewRouter()
	for p, h := range box.Routes() {
		r.Handle(p, h)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		cancel()
		srv.Close()
		wg.Wait()
	})
	f.reg, f.box, f.srv = reg, box, srv
	f.sid = modelstest.Login(t, reg.Registry, "admin", modelstest.AdminPassword)
	return f
}

// reply is a parsed answer.
type reply struct {
	status int
	header http.Header
	raw    string
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"` // nil: no result key
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

// req describes one request; zero fields take the usual values.
type req struct {
	method      string            // default POST
	body        string            // raw body
	contentType string            // default application/json;charset=utf-8 (the IoT client's)
	sid         string            // session cookie, if any
	header      map[string]string // e.g. Origin
}

func (f *fixture) do(t *testing.T, path string, q req) reply {
	t.Helper()
	return f.doCtx(t, context.Background(), path, q)
}

func (f *fixture) doCtx(t *testing.T, ctx context.Context, path string, q req) reply {
	t.Helper()
	if q.method == "" {
		q.method = http.MethodPost
	}
	r, err := http.NewRequestWithContext(ctx, q.method, f.srv.URL+path, strings.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	if q.contentType == "" {
		q.contentType = "application/json;charset=utf-8"
	}
	r.Header.Set("Content-Type", q.contentType)
	if q.sid != "" {
		r.AddCookie(&http.Cookie{Name: websession.Cookie, Value: q.sid})
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	resp, raw := testkit.Do(t, f.srv.Client(), r)
	rep := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatalf("%s %s: answer is not JSON (%v): %s", q.method, path, err, raw)
		}
	}
	return rep
}

// pollBody is a /hw_drivers/event body as the IoT client sends it.
func pollBody(session string, last float64, devices ...string) string {
	devs := map[string]any{}
	for i, d := range devices {
		devs[d] = map[string]any{"listener_id": "listener-" + string(rune('0'+i)), "device_identifier": d}
	}
	b, _ := json.Marshal(map[string]any{"params": map[string]any{"listener": map[string]any{
		"session_id": session, "last_event": last, "devices": devs, "rpc": false,
	}}})
	return string(b)
}

func (f *fixture) poll(t *testing.T, session string, last float64, devices ...string) reply {
	t.Helper()
	return f.do(t, EventPath, req{body: pollBody(session, last, devices...), sid: f.sid})
}

// deviceEvent is a result of /hw_drivers/event.
type deviceEvent struct {
	Device      string          `json:"device_identifier"`
	Time        float64         `json:"time"`
	Value       json.RawMessage `json:"value"`
	Owner       *string         `json:"owner"`
	RequestData json.RawMessage `json:"request_data"`
	Session     string          `json:"session_id"`
}

func mustEvent(t *testing.T, r reply) deviceEvent {
	t.Helper()
	if r.Error != nil || r.Result == nil {
		t.Fatalf("want an event, got %d %s", r.status, r.raw)
	}
	var ev deviceEvent
	if err := json.Unmarshal(r.Result, &ev); err != nil {
		t.Fatalf("result is not an event: %v: %s", err, r.raw)
	}
	return ev
}

// publish notifies a device event the way the record layer does and waits
// until the box has it in its ring.
func (f *fixture) publish(t *testing.T, device string, value any) {
	t.Helper()
	f.box.ring.mu.Lock()
	wake := f.box.ring.wake
	f.box.ring.mu.Unlock()
	f.reg.Notify(context.Background(), models.Notification{Channel: iotdevice.ChannelDevices, Type: iotdevice.NoteDeviceEvent,
		Payload: map[string]any{"device_identifier": device, "time": float64(time.Now().UnixNano()) / 1e9, "value": value, "device_id": 1, "broker_id": 1}})
	select {
	case <-wake:
	case <-time.After(waitLimit):
		t.Fatalf("device event of %s never reached the box", device)
	}
}

// waitPolling waits until n polls of the box are waiting.
func (f *fixture) waitPolling(t *testing.T, n int) {
	t.Helper()
	busy := 0
	waiting := func() bool {
		f.box.listeners.mu.Lock()
		defer f.box.listeners.mu.Unlock()
		busy = 0
		for _, l := range f.box.listeners.m {
			if l.abort != nil {
				busy++
			}
		}
		return busy >= n
	}
	if !testkit.Poll(waitLimit, waiting) {
		t.Fatalf("%d polls waiting, want %d", busy, n)
	}
}
