package listener

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// The rules worker: after commit and ack, the messages of the brokers the
// rule engine watches reach RuleEngine.Evaluate, per broker in arrival
// order. These tests run a real Mosquitto and real databases; the engine
// is ruleRecorder, our own RuleEngine (the rules addon is tested in its
// package, and end to end through the server).

// ruleRecorder is a RuleEngine that records what it is asked to evaluate.
// While held, a call waits for release; while failing, it returns an
// error. With reg set, every call checks that each message already has its
// committed history row when its topic starts with checkPrefix.
type ruleRecorder struct {
	reg         *models.Registry
	checkPrefix string

	callGate // its mu guards the fields below too
	watch    map[int64]bool
	got      map[int64][]string // broker -> "topic=payload" evaluated, in order
	msgs     []rules.Message    // every message evaluated, in order
	wrong    []string           // messages evaluated before their row was committed
}

func newRuleRecorder(watched ...int64) *ruleRecorder {
	r := &ruleRecorder{watch: map[int64]bool{}, got: map[int64][]string{}}
	for _, b := range watched {
		r.watch[b] = true
	}
	return r
}

func (r *ruleRecorder) Watching(broker int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.watch[broker]
}

func (r *ruleRecorder) setWatching(broker int64, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.watch[broker] = on
}

func (r *ruleRecorder) Evaluate(ctx context.Context, broker int64, msgs []rules.Message) error {
	r.checkCommitted(ctx, msgs)
	if err := r.call(ctx, "rules refused by the test"); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		r.got[broker] = append(r.got[broker], m.Topic+"="+string(m.Payload))
		r.msgs = append(r.msgs, m)
	}
	return nil
}

// checkCommitted notes the checked messages that have no history row.
func (r *ruleRecorder) checkCommitted(ctx context.Context, msgs []rules.Message) {
	if r.reg == nil {
		return
	}
	for _, m := range msgs {
		if !strings.HasPrefix(m.Topic, r.checkPrefix) {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := r.reg.Execute(cctx, models.Call{UID: models.Superuser, Model: "mqtt.signal.history", Method: "search_count",
			Args: []any{[]any{[]any{"topic", "=", m.Topic}, []any{"payload", "=", string(m.Payload)}}}})
		cancel()
		if err != nil || n != int64(1) {
			r.mu.Lock()
			r.wrong = append(r.wrong, fmt.Sprintf("%s=%s: %v rows (%v)", m.Topic, m.Payload, n, err))
			r.mu.Unlock()
		}
	}
}

func (r *ruleRecorder) state() (calls, failures int, got map[int64][]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got = map[int64][]string{}
	for k, v := range r.got {
		got[k] = slices.Clone(v)
	}
	return r.calls, r.failures, got
}

func (r *ruleRecorder) evaluated() ([]rules.Message, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs), slices.Clone(r.wrong)
}

// newRulesHarness is newHarness with the rule engine rec, and the bus's
// notes going to bus when it is not nil.
func newRulesHarness(t *testing.T, kind string, opts Options, rec *ruleRecorder, bus *busCheck) *harness {
	h := &harness{t: t}
	o := modelstest.Options{Control: func() mqttmodel.BrokerControl { return h.svc }}
	if bus != nil {
		o.Notifier = bus
	}
	h.reg = modelstest.NewFor(t, kind, o)
	if bus != nil {
		bus.reg = h.reg.Registry
	}
	t.Cleanup(rec.release) // before the harness's stop, which runs first
	opts.Rules = rec
	h.run(opts)
	return h
}

// heldRules starts a Mosquitto and a service with one broker listening
// to filter, watched by a recorder that holds every Evaluate call until
// released.
func heldRules(t *testing.T, kind string, opts Options, filter string) (*harness, *ruleRecorder, *testmqtt.Broker, int64) {
	t.Helper()
	mq := startMosquitto(t, testmqtt.Options{})
	rec := newRuleRecorder()
	rec.holdCalls()
	h := newRulesHarness(t, kind, opts, rec, nil)
	b := h.broker(mq.Port(), nil)
	rec.setWatching(b, true)
	h.subscription(b, filter, 1)
	start := time.Now()
	h.call("mqtt.service", "start_mqtt_service")
	h.waitConnected(b, start)
	return h, rec, mq, b
}

// publishSeries publishes n QoS 1 messages 0..n-1 on topic, each once
// the broker acknowledged the previous one, and returns them as the
// recorder records them.
func publishSeries(t *testing.T, mq *testmqtt.Broker, clientID, topic string, n int) []string {
	t.Helper()
	c := testmqtt.Connect(t, mq.URL(), clientID, nil)
	var want []string
	for i := range n {
		testmqtt.Publish(t, c, topic, 1, false, fmt.Sprint(i))
		want = append(want, fmt.Sprintf("%s=%d", topic, i))
	}
	return want
}

// TestRulesAfterCommitAndAck, on each database: a message reaches the
// rules only once its row is committed and after its acknowledgement
// went out, with its topic, payload, QoS, retain flag and arrival time,
// in arrival order; a broker the engine does not watch gets no
// evaluation. Mosquitto with max_inflight_messages 1 sends the listener a
// QoS 1 message only once it acknowledged the one before; the bus note of
// the first message holds the writer between the acknowledgement and the
// hand-over to the rules: meanwhile the second message arrives and the
// rules have seen nothing.
func TestRulesAfterCommitAndAck(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{Config: []string{"max_inflight_messages 1"}})
			bus := &busCheck{first: "order/0", release: make(chan struct{}), seen: map[string]int{}}
			var release sync.Once
			unblock := func() { release.Do(func() { close(bus.release) }) }
			rec := newRuleRecorder()
			rec.checkPrefix = "order/"
			h := newRulesHarness(t, kind, Options{}, rec, bus)
			t.Cleanup(unblock)
			rec.reg = h.reg.Registry
			b := h.broker(mq.Port(), nil)
			other := h.broker(mq.Port(), map[string]any{"name": "not watched"})
			rec.setWatching(b, true)
			h.subscription(b, "order/#", 1)
			h.subscription(other, "quiet/#", 1)
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, start)
			h.waitConnected(other, start)

			// The unwatched broker's messages first: committed, never
			// evaluated (the rules worker takes jobs in commit order, so
			// once order/* is evaluated, these were passed over).
			q := testmqtt.Connect(t, mq.URL(), "dev-quiet", nil)
			testmqtt.Publish(t, q, "quiet/x", 1, false, "hush")
			testkit.Eventually(t, 15*time.Second, "quiet/x stored", func() bool { return h.count([]any{"topic", "=", "quiet/x"}) == 1 })

			dev := testmqtt.Connect(t, mq.URL(), "dev-order", nil)
			const n = 5
			published := time.Now()
			var want []string
			for i := range n {
				topic, payload := fmt.Sprintf("order/%d", i), fmt.Sprintf("m%d", i)
				testmqtt.Publish(t, dev, topic, 1, false, payload)
				want = append(want, topic+"="+payload)
			}
			testkit.Eventually(t, 15*time.Second, "the note of order/0", func() bool { held, _, _ := bus.state(); return held })
			testkit.Eventually(t, 15*time.Second, "order/1 delivered while the note of order/0 holds the writer (order/0 acknowledged)",
				func() bool { return h.daemon(b).MessagesIn >= 2 })
			if calls, _, _ := rec.state(); calls != 0 {
				t.Errorf("the rules evaluated %d times before the writer handed order/0 over", calls)
			}
			unblock()
			testkit.Eventually(t, 15*time.Second, "every message evaluated", func() bool { _, _, got := rec.state(); return len(got[b]) == n })
			h.stop()

			_, _, got := rec.state()
			if !slices.Equal(got[b], want) {
				t.Errorf("evaluated %v, want %v in arrival order", got[b], want)
			}
			if len(got[other]) != 0 {
				t.Errorf("messages of the unwatched broker evaluated: %v", got[other])
			}
			msgs, wrong := rec.evaluated()
			for _, w := range wrong {
				t.Errorf("evaluated before its row was committed: %s", w)
			}
			for _, m := range msgs {
				if m.QoS != 1 || m.Retained || m.Time.Before(published.Add(-time.Second)) || m.Time.After(time.Now()) {
					t.Errorf("message %s: QoS %d retained %v time %v, want QoS 1, not retained, received after %v", m.Topic, m.QoS, m.Retained, m.Time, published)
				}
			}
		})
	}
}

// TestRulesDoNotHoldAcks, on each database: while the rules are held
// (an engine stuck in Evaluate), two watched brokers' QoS 1 messages are
// stored, acknowledged and delivered far beyond Mosquitto's in-flight
// window (20 unacknowledged messages per client), and so are an unwatched
// broker's; device messages with no history row and a message refused
// for its size are acknowledged too. Then every evaluation fails, and is
// retried; once the engine takes them, every message of the watched
// brokers lands, per broker in arrival order, device messages included,
// the refused one and the unwatched broker's excluded.
func TestRulesDoNotHoldAcks(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			mq := startMosquitto(t, testmqtt.Options{})
			rec := newRuleRecorder()
			rec.holdCalls()
			h := newRulesHarness(t, kind, Options{}, rec, nil)
			a := h.broker(mq.Port(), map[string]any{"name": "a", "max_payload_size": int64(1000)})
			b := h.broker(mq.Port(), map[string]any{"name": "b"})
			c := h.broker(mq.Port(), map[string]any{"name": "c, not watched"})
			rec.setWatching(a, true)
			rec.setWatching(b, true)
			for id, f := range map[int64]string{a: "a/#", b: "b/#", c: "c/#"} {
				h.subscription(id, f, 1)
			}
			start := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			for _, id := range []int64{a, b, c} {
				h.waitConnected(id, start)
			}

			const n = 60
			wantA := publishSeries(t, mq, "dev-a", "a/x", n)
			big := testmqtt.Connect(t, mq.URL(), "dev-big", nil)
			testmqtt.Publish(t, big, "a/big", 1, false, strings.Repeat("x", 2000)) // refused by a, acknowledged
			wantB := publishSeries(t, mq, "dev-b", "b/x", n)
			publishSeries(t, mq, "dev-c", "c/x", n)
			// Every broker subscribes the device filters: a device topic
			// only, no history row.
			avail := testmqtt.Connect(t, mq.URL(), "dev-avail", nil)
			testmqtt.Publish(t, avail, "device/s1/availability", 1, false, "online")
			wantA = append(wantA, "device/s1/availability=online")
			wantB = append(wantB, "device/s1/availability=online")
			testkit.Eventually(t, 20*time.Second, "every message received and committed, the watched ones queued for the rules", func() bool {
				return h.daemon(a).MessagesIn == n+2 && h.daemon(b).MessagesIn == n+1 && h.daemon(c).MessagesIn == n+1 &&
					h.count([]any{"topic", "=", "a/x"}) == n && h.count([]any{"topic", "=", "b/x"}) == n && h.count([]any{"topic", "=", "c/x"}) == n &&
					h.metric("odoo_iot_mqtt_rules_queue_messages") == 2*(n+1)
			})
			if calls, _, got := rec.state(); calls != 1 || len(got) != 0 {
				t.Errorf("%d calls, %d brokers evaluated while the first call is held, want 1 call and none", calls, len(got))
			}
			if v := h.metric("odoo_iot_mqtt_rules_queue_bytes"); v < float64(2*(n+1)*ruleMessageOverhead) {
				t.Errorf("rules_queue_bytes %v with %d messages queued", v, 2*(n+1))
			}

			// Every evaluation fails, and is retried.
			rec.setFailing(true)
			rec.release()
			testkit.Eventually(t, 10*time.Second, "evaluations retried", func() bool { _, failures, _ := rec.state(); return failures >= 3 })
			if _, _, got := rec.state(); len(got) != 0 {
				t.Fatalf("messages evaluated while every evaluation failed: %v", got)
			}
			rec.setFailing(false)
			testkit.Eventually(t, 20*time.Second, "every watched message evaluated and the rules queue empty", func() bool {
				_, _, got := rec.state()
				return len(got[a]) == len(wantA) && len(got[b]) == len(wantB) &&
					h.metric("odoo_iot_mqtt_rules_queue_messages") == 0 && h.metric("odoo_iot_mqtt_rules_queue_bytes") == 0
			})
			h.stop()
			_, failures, got := rec.state()
			if !slices.Equal(got[a], wantA) {
				t.Errorf("broker a: evaluated %v, want %v", got[a], wantA)
			}
			if !slices.Equal(got[b], wantB) {
				t.Errorf("broker b: evaluated %v, want %v", got[b], wantB)
			}
			if len(got[c]) != 0 {
				t.Errorf("the unwatched broker's messages evaluated: %v", got[c])
			}
			if v := h.metric("odoo_iot_mqtt_rules_evaluate_retries_total"); v != float64(failures) {
				t.Errorf("rules_evaluate_retries_total %v, want the %d failures", v, failures)
			}
			if n := h.logs.Count("Unable to evaluate the rules on received messages, retrying"); n != 1 {
				t.Errorf("%d retry warnings, want 1 for the whole outage", n)
			}
			if n := h.logs.Count("Evaluating the rules again"); n != 1 {
				t.Errorf("%d recovery lines, want 1", n)
			}
			if v := h.metric("odoo_iot_mqtt_rules_messages_lost_total") + h.metric("odoo_iot_mqtt_messages_dropped_total"); v != 0 {
				t.Errorf("lost or dropped %v", v)
			}
			if v := h.metric("odoo_iot_mqtt_messages_oversized_total"); v != 1 {
				t.Errorf("messages_oversized_total %v, want 1 (a/big)", v)
			}
		})
	}
}

// TestRulesQueueBackPressure, on each database: with a rules queue of
// one byte and the rules held, the writer stores and acknowledges a
// batch, hands it over, stores the next, and waits for room: intake stops
// (the broker keeps the rest) instead of anything being dropped, and
// everything is stored and evaluated, in order, once the rules go on.
func TestRulesQueueBackPressure(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			const batch = 10
			h, rec, mq, b := heldRules(t, kind, Options{BatchSize: batch, RulesQueueBytes: 1}, "bp/#")

			const n = 100
			// The publisher's PUBACKs come from Mosquitto, which queues
			// what the listener does not take yet.
			want := publishSeries(t, mq, "dev-bp", "bp/x", n)
			testkit.Eventually(t, 15*time.Second, "the writer waiting for room in the rules queue", func() bool {
				return h.metric("odoo_iot_mqtt_rules_queue_waits_total") >= 1
			})
			// The worker holds the first batch's messages; the writer
			// waits to hand over the second's: no third batch is stored.
			if c := h.count([]any{"topic", "=", "bp/x"}); c > 2*batch {
				t.Errorf("%d rows stored while the writer waits for the rules queue, want at most two batches (%d)", c, 2*batch)
			}
			if v := h.metric("odoo_iot_mqtt_rules_queue_messages"); v == 0 || v > batch {
				t.Errorf("%v messages queued for the rules, want one batch's (the bound lets one job through)", v)
			}
			rec.release()
			testkit.Eventually(t, 30*time.Second, "every message stored and evaluated", func() bool {
				_, _, got := rec.state()
				return h.count([]any{"topic", "=", "bp/x"}) == n && len(got[b]) == n
			})
			if _, _, got := rec.state(); !slices.Equal(got[b], want) {
				t.Errorf("messages evaluated out of order or duplicated:\n%v", got[b])
			}
			if v := h.metric("odoo_iot_mqtt_rules_messages_lost_total") + h.metric("odoo_iot_mqtt_messages_dropped_total"); v != 0 {
				t.Errorf("lost or dropped %v", v)
			}
		})
	}
}

// TestShutdownDrainsRules, on each database: at shutdown the rules worker
// evaluates what it was handed (Run waits for it), and once the drain
// timeout has passed it gives up what the engine still refuses, logged
// and counted, the history of those messages being stored.
func TestShutdownDrainsRules(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			h, rec, mq, b := heldRules(t, kind, Options{}, "drain/#")

			const n = 40
			want := publishSeries(t, mq, "dev-d1", "drain/d1", n)
			testkit.Eventually(t, 15*time.Second, "the history committed and every message queued for the rules", func() bool {
				calls, _, _ := rec.state()
				return calls >= 1 && h.count([]any{"topic", "=", "drain/d1"}) == n && h.metric("odoo_iot_mqtt_rules_queue_messages") == n
			})
			stopped := make(chan struct{})
			go func() { defer close(stopped); h.stop() }()
			testkit.Eventually(t, 15*time.Second, "the daemon stopped by the shutdown", func() bool { return h.daemon(b).State == mqttmodel.StateStopped })
			select {
			case <-stopped:
				t.Fatalf("Run returned with %d messages queued for the rules", n)
			default:
			}
			rec.release()
			select {
			case <-stopped:
			case <-time.After(60 * time.Second):
				t.Fatalf("Run did not return")
			}
			if _, _, got := rec.state(); !slices.Equal(got[b], want) {
				t.Errorf("messages evaluated by the shutdown %d, want the %d published in order", len(got[b]), len(want))
			}
			if v := h.metric("odoo_iot_mqtt_rules_messages_lost_total"); v != 0 {
				t.Errorf("rules_messages_lost_total %v", v)
			}
			if n := h.logs.Count("Giving up evaluating the rules"); n != 0 {
				t.Errorf("%d give-up lines", n)
			}

			// An engine refusing every evaluation until the drain timeout.
			failing := newRuleRecorder(b)
			failing.setFailing(true)
			h.run(Options{Rules: failing})
			before := time.Now()
			h.call("mqtt.service", "start_mqtt_service")
			h.waitConnected(b, before)
			const m = 25
			publishSeries(t, mq, "dev-d2", "drain/d2", m)
			testkit.Eventually(t, 15*time.Second, "d2's messages queued and retried", func() bool {
				_, failures, _ := failing.state()
				return failures >= 1 && h.metric("odoo_iot_mqtt_rules_queue_messages") == m
			})
			h.svc.drainTimeout = 300 * time.Millisecond
			h.stop()
			if v := h.metric("odoo_iot_mqtt_rules_messages_lost_total"); v != m {
				t.Errorf("rules_messages_lost_total %v, want %d", v, m)
			}
			if n := h.logs.Count("Giving up evaluating the rules at shutdown", fmt.Sprintf("messages=%d", m)); n != 1 {
				t.Errorf("%d give-up lines for %d messages, want 1", n, m)
			}
			if c := h.count([]any{"topic", "=", "drain/d2"}); c != m {
				t.Errorf("%d history rows of d2, want %d", c, m)
			}
		})
	}
}
