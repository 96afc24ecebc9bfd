package listener

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/prometheus/client_golang/prometheus"
)

// harness is a registry with a running Service installed as its
// BrokerControl.
type harness struct {
	t       *testing.T
	reg     *modelstest.App
	svc     *Service
	logs    *testkit.Logs
	metrics *prometheus.Registry
	stop    func() // cancels Run and waits for it
}

// newHarness opens a fresh database of kind and runs a Service on it.
func newHarness(t *testing.T, kind string, opts Options) *harness {
	h := &harness{t: t}
	h.reg = modelstest.NewFor(t, kind, modelstest.Options{Control: func() mqttmodel.BrokerControl { return h.svc }})
	h.run(opts)
	return h
}

// newHarnessAt runs a Service on the database at dsn, whose secrets it
// reads with cipher (nil: the test keyring).
func newHarnessAt(t *testing.T, dsn string, cipher models.Cipher, opts Options) *harness {
	h := &harness{t: t}
	h.reg = modelstest.Open(t, dsn, modelstest.Options{Control: func() mqttmodel.BrokerControl { return h.svc }, Cipher: cipher})
	h.run(opts)
	return h
}

// run starts a new Service on the harness's registry.
func (h *harness) run(opts Options) {
	h.t.Helper()
	if opts.Logger == nil {
		opts.Logger, h.logs = testkit.NewLogger(h.t, slog.LevelInfo)
	}
	if opts.Metrics == nil {
		h.metrics = prometheus.NewRegistry()
		opts.Metrics = h.metrics
	}
	if opts.PurgeInterval == 0 {
		opts.PurgeInterval = time.Hour
	}
	h.svc = New(h.reg.MQTT, h.reg.Devices, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("Run: %v", err)
				}
			case <-time.After(60 * time.Second):
				h.t.Fatalf("Run did not return after its context ended")
			}
		})
	}
	h.t.Cleanup(h.stop)
}

// call runs a model method as admin and fails the test on error.
func (h *harness) call(model, method string, args ...any) any {
	h.t.Helper()
	res, err := h.try(model, method, args...)
	if err != nil {
		h.t.Fatalf("%s.%s: %v", model, method, err)
	}
	return res
}

func (h *harness) try(model, method string, args ...any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.reg.Execute(ctx, models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args})
}

// broker creates a broker record for the test Mosquitto on port, with
// quick reconnection and device discovery on (off by default, the device
// tests need it; the others see the device filters as a broker with it
// on does); vals override the defaults.
func (h *harness) broker(port int, vals map[string]any) int64 {
	h.t.Helper()
	v := map[string]any{
		"name": fmt.Sprintf("broker %d", port), "host": "127.0.0.1", "port": fmt.Sprint(port), "connect_timeout": int64(3),
		"reconnect_initial": 0.2, "reconnect_factor": 1.5, "reconnect_max": 1.0, "reconnect_jitter": 0.0,
		"device_discovery": true,
	}
	for k, x := range vals {
		v[k] = x
	}
	return h.call("mqtt.broker", "create", v).(int64)
}

// subscription creates a subscription and subscribes it.
func (h *harness) subscription(broker int64, topic string, qos int64) int64 {
	h.t.Helper()
	id := h.call("mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": topic, "qos": qos}).(int64)
	h.call("mqtt.subscription", "subscribe_mqtt", []any{id})
	return id
}

// read returns one field of one record.
func (h *harness) read(model string, id int64, field string) any {
	h.t.Helper()
	rows := h.call(model, "read", []any{id}, []any{field}).([]*models.Dict)
	if len(rows) != 1 {
		h.t.Fatalf("%s(%d) not found", model, id)
	}
	v, _ := rows[0].Get(field)
	return v
}

// historyRow is one mqtt.signal.history row as the tests look at it.
type historyRow struct {
	Topic, Payload, Direction string
	Raw                       []byte
	QoS                       int64
	Retain                    bool
	Broker, Sub, Signal       int64
}

// history returns the history rows matching domain, oldest first.
func (h *harness) history(domain ...any) []historyRow {
	h.t.Helper()
	if domain == nil {
		domain = []any{}
	}
	res := h.call("mqtt.signal.history", "search_read", domain,
		[]any{"topic", "payload", "payload_raw", "qos", "retain", "direction", "broker_id", "subscription_id", "signal_id"}, int64(0), false, "id asc")
	var out []historyRow
	for _, d := range res.([]*models.Dict) {
		get := func(k string) any { v, _ := d.Get(k); return v }
		m2o := func(k string) int64 {
			if pair, ok := get(k).([]any); ok {
				return pair[0].(int64)
			}
			return 0
		}
		r := historyRow{Topic: get("topic").(string), Payload: get("payload").(string), Direction: get("direction").(string),
			QoS: get("qos").(int64), Retain: get("retain").(bool), Broker: m2o("broker_id"), Sub: m2o("subscription_id"), Signal: m2o("signal_id")}
		if s, ok := get("payload_raw").(string); ok {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				h.t.Fatalf("payload_raw is not base64: %v", err)
			}
			r.Raw = b
		}
		out = append(out, r)
	}
	return out
}

// count returns the number of history rows matching domain.
func (h *harness) count(domain ...any) int64 {
	h.t.Helper()
	if domain == nil {
		domain = []any{}
	}
	return h.call("mqtt.signal.history", "search_count", domain).(int64)
}

// daemon returns the registry entry of a broker.
func (h *harness) daemon(broker int64) mqttmodel.DaemonStatus {
	for _, d := range h.svc.Daemons() {
		if d.BrokerID == broker {
			return d
		}
	}
	return mqttmodel.DaemonStatus{}
}

// waitConnected waits until the broker's daemon is connected (and so has
// subscribed) after the given time, and its record says so.
func (h *harness) waitConnected(broker int64, after time.Time) {
	h.t.Helper()
	testkit.Eventually(h.t, 15*time.Second, fmt.Sprintf("broker %d connected", broker), func() bool {
		d := h.daemon(broker)
		return d.State == mqttmodel.StateConnected && d.ConnectedAt.After(after) &&
			h.read("mqtt.broker", broker, "listener_state") == mqttmodel.StateConnected
	})
}

// metric returns the value of a counter or gauge, or the sample count of
// a histogram, summed over the series whose labels include labels.
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.metrics.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			case m.Histogram != nil:
				total += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return total
}

// userIn creates a user of the group with xml id group and returns its id.
func (h *harness) userIn(login, group string) int64 {
	h.t.Helper()
	gids := h.call("res.groups", "search", []any{[]any{"xml_id", "=", group}}).([]int64)
	return h.call("res.users", "create", map[string]any{"name": login, "login": login, "password": "pw-" + login,
		"groups_id": []any{[]any{int64(6), int64(0), []any{gids[0]}}}}).(int64)
}

// tryAs runs a model method as uid.
func (h *harness) tryAs(uid int64, model, method string, args ...any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.reg.Execute(ctx, models.Call{UID: uid, Model: model, Method: method, Args: args})
}

// connectRecorder is a plain TCP listener that plays a broker just far
// enough to read each client's CONNECT and accept it: a stand-in for a
// listener an attacker points a broker record at.
type connectRecorder struct {
	ln      net.Listener
	packets chan *packets.ConnectPacket
	wg      sync.WaitGroup
}

// newConnectRecorder listens on a free local port until the test ends.
func newConnectRecorder(t *testing.T) *connectRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &connectRecorder{ln: ln, packets: make(chan *packets.ConnectPacket, 16)}
	r.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			r.wg.Go(func() { r.serve(t, c) })
		}
	})
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

func (r *connectRecorder) port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// serve reads one CONNECT, answers CONNACK accepted, and waits for the
// client to hang up (bounded, so the recorder always stops).
func (r *connectRecorder) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	p, err := packets.ReadPacket(c)
	cp, ok := p.(*packets.ConnectPacket)
	if err != nil || !ok {
		t.Errorf("connect recorder: %T, %v: not a CONNECT", p, err)
		return
	}
	r.packets <- cp
	if err := packets.NewControlPacket(packets.Connack).Write(c); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, c)
}

// next returns the next CONNECT received.
func (r *connectRecorder) next(t *testing.T) *packets.ConnectPacket {
	t.Helper()
	select {
	case p := <-r.packets:
		return p
	case <-time.After(15 * time.Second):
		t.Fatal("no CONNECT reached the recorder")
		return nil
	}
}

// callGate is what the tests' stand-ins for a worker's callee (device
// ingestion, the rule engine) share: calls are counted, can be held until
// released, and can be made to fail. Its mu also guards the stand-in's
// own records.
type callGate struct {
	mu       sync.Mutex
	hold     chan struct{} // non-nil: calls wait until it is closed
	failing  bool
	calls    int
	failures int
}

// call counts a call, waits while calls are held (or ctx ends), and
// returns an error saying refusal, counted as a failure, while failing.
func (g *callGate) call(ctx context.Context, refusal string) error {
	g.mu.Lock()
	g.calls++
	hold := g.hold
	g.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failing {
		g.failures++
		return errors.New(refusal)
	}
	return nil
}

func (g *callGate) holdCalls() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold = make(chan struct{})
}

func (g *callGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hold != nil {
		close(g.hold)
		g.hold = nil
	}
}

func (g *callGate) setFailing(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failing = on
}
