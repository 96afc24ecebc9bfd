package iotdevice_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// commandFixture is a broker with an online lamp, and a listener service
// that records what is published.
type commandFixture struct {
	*deviceFixture
	ctl  *modelstest.Control
	lamp int64
}

func newCommandFixture(t *testing.T, r *app, brokerVals map[string]any) *commandFixture {
	f := &commandFixture{deviceFixture: newDeviceFixture(t, r, brokerVals), ctl: &modelstest.Control{Running: true}}
	r.ctl = f.ctl
	f.ingest(f.msg("device/lamp-1/availability", "online", 0))
	f.lamp = f.device("lamp-1")["id"].(int64)
	f.notes.Reset()
	return f
}

// call runs iot.device.call or call_async on the lamp as the admin.
func (f *commandFixture) call(method string, kwargs map[string]any) (any, error) {
	return f.r.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "iot.device", Method: method,
		Args: []any{[]any{f.lamp}}, Kwargs: kwargs})
}

// published waits until something was published and returns it.
func (f *commandFixture) published() mqtt.OutgoingMessage {
	f.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if pubs := f.ctl.TakePublished(); len(pubs) > 0 {
			if len(pubs) > 1 {
				f.t.Errorf("published %d messages, want 1: %v", len(pubs), pubs)
			}
			return pubs[0]
		}
	}
	f.t.Fatal("nothing published")
	return mqtt.OutgoingMessage{}
}

// command reads the newest command of the lamp.
func (f *commandFixture) command() map[string]any {
	f.t.Helper()
	rows := f.exec(models.AdminUID, "iot.command", "search_read", []any{[]any{[]any{"device_id", "=", f.lamp}}}, map[string]any{"limit": int64(1)}).([]*models.Dict)
	if len(rows) == 0 {
		f.t.Fatal("no command")
	}
	out := map[string]any{}
	rows[0].Range(func(k string, v any) bool { out[k] = v; return true })
	return out
}

// waitStatus waits until the lamp's newest command has status.
func (f *commandFixture) waitStatus(status string) map[string]any {
	f.t.Helper()
	var c map[string]any
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c = f.command(); c["status"] == status {
			return c
		}
	}
	f.t.Fatalf("command status %v, want %s: %v", c["status"], status, c)
	return nil
}

// response is a device's answer on topic, with MQTT 5 correlation data
// when corr is not nil.
func (f *commandFixture) response(topic, payload string, corr []byte) iotdevice.DeviceMessage {
	m := f.msg(topic, payload, time.Second)
	m.CorrelationData = corr
	return m
}

// statuses are the statuses the command notes told, in order.
func (f *commandFixture) statuses() []string {
	var out []string
	for _, n := range f.notes.Take(iotdevice.NoteCommand) {
		out = append(out, n["status"].(string))
	}
	return out
}

// TestCommandCall: call publishes the request, and an answer ingested
// completes it, matched by the topic's request id (MQTT 3.1.1) or the
// Correlation Data (MQTT 5); call returns the answer decoded.
func TestCommandCall(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		tests := []struct {
			name     string
			protocol string
			// answer builds the device's answer to the request.
			answer func(f *commandFixture, req mqtt.OutgoingMessage, reqID string) iotdevice.DeviceMessage
		}{
			{"MQTT 3.1.1: request id in the topic", "MQTTv311", func(f *commandFixture, req mqtt.OutgoingMessage, reqID string) iotdevice.DeviceMessage {
				if req.ResponseTopic != "" || req.CorrelationData != nil {
					t.Errorf("properties sent on MQTT 3.1.1: %+v", req.Properties)
				}
				return f.response("device/lamp-1/response/"+reqID, `{"on":true,"level":3,"temp":21.5}`, nil)
			}},
			{"MQTT 5: correlation data", "MQTTv5", func(f *commandFixture, req mqtt.OutgoingMessage, reqID string) iotdevice.DeviceMessage {
				if req.ResponseTopic != "device/lamp-1/response/"+reqID || string(req.CorrelationData) != reqID {
					t.Errorf("MQTT 5 request properties %+v, want the response topic and the request id", req.Properties)
				}
				// The correlation data wins over the topic's level.
				return f.response("device/lamp-1/response/whatever", `{"on":true,"level":3,"temp":21.5}`, req.CorrelationData)
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				f := newCommandFixture(t, r, map[string]any{"protocol": tc.protocol})
				var res any
				var err error
				var wg sync.WaitGroup
				wg.Go(func() {
					res, err = f.call("call", map[string]any{"name": "get_state", "params": map[string]any{"verbose": true}, "timeout": int64(30)})
				})
				req := f.published()
				cmd := f.command()
				reqID := cmd["correlation_id"].(string)
				if req.Topic != "device/lamp-1/request/"+reqID || string(req.Payload) != `{"method":"get_state","params":{"verbose":true}}` || req.QoS != 1 {
					t.Errorf("request %s %s qos %d", req.Topic, req.Payload, req.QoS)
				}
				f.ingest(tc.answer(f, req, reqID))
				wg.Wait()
				if err != nil {
					t.Fatalf("call: %v", err)
				}
				m, _ := res.(map[string]any)
				if m["on"] != true || m["level"] != int64(3) || m["temp"] != 21.5 {
					t.Errorf("call = %#v", res)
				}
				cmd = f.command()
				if cmd["status"] != "succeeded" || cmd["response"] != `{"on":true,"level":3,"temp":21.5}` || cmd["answered_at"] == false ||
					cmd["sent_at"] == false || cmd["name"] != "get_state" || cmd["params"] != `{"verbose":true}` || cmd["request_topic"] != req.Topic {
					t.Errorf("command = %v", cmd)
				}
				if got := strings.Join(f.statuses(), ","); got != "pending,sent,succeeded" {
					t.Errorf("notes told %s", got)
				}
				hist := f.exec(models.AdminUID, "mqtt.signal.history", "search_read", []any{[]any{[]any{"topic", "=", req.Topic}, []any{"direction", "=", "send"}}}, nil).([]*models.Dict)
				if len(hist) != 1 {
					t.Errorf("%d send history rows of the request, want 1", len(hist))
				}
			})
		}
	})
}

// TestCommandAnswers: what an answer does to a call_async command, by
// who sends it and what it says.
func TestCommandAnswers(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newCommandFixture(t, r, nil)
		f.ingest(f.msg("device/other/availability", "online", 0))
		start := func() string {
			t.Helper()
			id, err := f.call("call_async", map[string]any{"name": "get_state", "timeout": int64(60)})
			if err != nil {
				t.Fatalf("call_async: %v", err)
			}
			if _, ok := id.(int64); !ok {
				t.Fatalf("call_async = %#v, want the command id", id)
			}
			req := f.published()
			if string(req.Payload) != `{"method":"get_state","params":{}}` {
				t.Errorf("request payload %s", req.Payload)
			}
			return f.waitStatus("sent")["correlation_id"].(string)
		}

		reqID := start()
		f.ingest(f.response("device/other/response/"+reqID, `{"x":1}`, nil))
		f.ingest(f.response("device/lamp-1/response/unknown", `{"x":1}`, nil))
		f.ingest(f.response("device/lamp-1/response/unknown", `{"x":1}`, []byte(reqID+"x")))
		if c := f.command(); c["status"] != "sent" {
			t.Errorf("answers from another device or to another request moved the command: %v", c)
		}
		f.ingest(f.response("device/lamp-1/response/"+reqID, ` [1, "two"] `, nil))
		if c := f.command(); c["status"] != "succeeded" || c["response"] != `[1, "two"]` {
			t.Errorf("after the answer: %v", c)
		}
		f.ingest(f.response("device/lamp-1/response/"+reqID, `{"again":true}`, nil))
		if c := f.command(); c["response"] != `[1, "two"]` {
			t.Errorf("a second answer replaced the first: %v", c)
		}

		reqID = start()
		f.ingest(f.response("device/lamp-1/response/"+reqID, `on`, nil))
		if c := f.command(); c["status"] != "failed" || !strings.Contains(c["error"].(string), "not JSON") || c["response"] != false {
			t.Errorf("an answer that is not JSON: %v", c)
		}

		// Ingested with other device messages, in one batch.
		reqID = start()
		f.ingest(f.msg("device/lamp-1/telemetry/level", "3", 0), f.response("device/lamp-1/response/"+reqID, `"ok"`, nil))
		if c := f.command(); c["status"] != "succeeded" || c["response"] != `"ok"` {
			t.Errorf("in a batch: %v", c)
		}
		if v := jsonField(t, f.device("lamp-1"), "last_values"); v["level"] == nil || len(v) != 1 {
			t.Errorf("last_values = %v: the answer is no reading", v)
		}
	})
}

// TestCommandFailures: a timeout, a late answer, a publish that fails,
// and brokers that cannot carry commands.
func TestCommandFailures(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newCommandFixture(t, r, nil)
		_, err := f.call("call", map[string]any{"name": "get_state", "timeout": int64(1)})
		if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("no answer: %v, want a UserError saying it timed out", err)
		}
		req := f.published()
		c := f.command()
		if c["status"] != "timed_out" || !strings.Contains(c["error"].(string), "No answer within 1 s") {
			t.Errorf("after the timeout: %v", c)
		}
		f.ingest(f.response(strings.Replace(req.Topic, "/request/", "/response/", 1), `{"late":true}`, nil))
		if c := f.command(); c["status"] != "timed_out" || c["response"] != false {
			t.Errorf("a late answer changed the command: %v", c)
		}

		f.ctl.PublishErr = errString("broker unreachable")
		_, err = f.call("call", map[string]any{"name": "get_state"})
		if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("publish failed: %v, want a UserError saying why", err)
		}
		if c := f.command(); c["status"] != "failed" || !strings.Contains(c["error"].(string), "unreachable") {
			t.Errorf("after a failed publish: %v", c)
		}
		f.ctl.PublishErr = nil

		for _, tc := range []struct {
			name   string
			kwargs map[string]any
			in     string
		}{
			{"no name", map[string]any{"name": ""}, "name"},
			{"timeout too long", map[string]any{"name": "x", "timeout": int64(MaxTimeout + 1)}, "timeout"},
			{"timeout zero", map[string]any{"name": "x", "timeout": int64(0)}, "timeout"},
			{"params not JSON", map[string]any{"name": "x", "params": map[string]any{"f": func() {}}}, "JSON"},
		} {
			if _, err := f.call("call_async", tc.kwargs); models.KindOf(err) != models.KindValue || !strings.Contains(err.Error(), tc.in) {
				t.Errorf("%s: %v, want a ValueError about %s", tc.name, err, tc.in)
			}
		}

		for _, tc := range []struct {
			name   string
			broker map[string]any
			in     string
		}{
			{"discovery off", map[string]any{"device_discovery": false}, "discovery"},
			{"3.1.1 without {request_id}", map[string]any{"device_response_topic": "device/{id}/response"}, "{request_id}"},
			{"no request topic", map[string]any{"device_request_topic": false}, "request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f.exec(models.AdminUID, "mqtt.broker", "write", []any{[]any{f.broker}, tc.broker}, nil)
				defer f.exec(models.AdminUID, "mqtt.broker", "write", []any{[]any{f.broker}, map[string]any{"device_discovery": true,
					"device_request_topic": "device/{id}/request/{request_id}", "device_response_topic": "device/{id}/response/{request_id}"}}, nil)
				before := len(f.statuses())
				_, err := f.call("call_async", map[string]any{"name": "x"})
				if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), tc.in) {
					t.Errorf("= %v, want a UserError about %s", err, tc.in)
				}
				if len(f.statuses()) != before {
					t.Errorf("a refused call made a command")
				}
			})
		}
		// On MQTT 5 the correlation data alone is enough.
		f.exec(models.AdminUID, "mqtt.broker", "write", []any{[]any{f.broker}, map[string]any{"protocol": "MQTTv5", "device_response_topic": "device/{id}/rpc"}}, nil)
		if _, err := f.call("call_async", map[string]any{"name": "x"}); err != nil {
			t.Fatalf("MQTT 5 without {request_id} in the response topic: %v", err)
		}
		req = f.published()
		if req.ResponseTopic != "device/lamp-1/rpc" {
			t.Errorf("response topic %q", req.ResponseTopic)
		}
		f.ingest(f.response("device/lamp-1/rpc", `{}`, req.CorrelationData))
		if c := f.command(); c["status"] != "succeeded" {
			t.Errorf("answered by correlation data alone: %v", c)
		}

		f.ctl.Running = false
		if _, err := f.call("call", map[string]any{"name": "x"}); models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "not running") {
			t.Errorf("listener stopped: %v", err)
		}
	})
}

// MaxTimeout is the largest timeout a call takes.
const MaxTimeout = iotdevice.MaxCommandTimeout

type errString string

func (e errString) Error() string { return string(e) }

// TestCommandPersistent: a persistent command to an offline device waits,
// pending, until the device says it is online, then the worker sends it;
// one whose device stays offline expires. A command the caller stopped
// waiting for expires through the worker too.
func TestCommandPersistent(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		modelstest.CheckLeaks(t) // the worker stops with its context
		f := newCommandFixture(t, r, nil)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		wg.Go(func() {
			if err := r.Devices.RunCommands(ctx); err != nil {
				t.Errorf("RunCommands: %v", err)
			}
		})

		f.ingest(f.msg("device/lamp-1/availability", "offline", time.Second))
		id, err := f.call("call_async", map[string]any{"name": "get_state", "persistent": true, "timeout": int64(60)})
		if err != nil {
			t.Fatalf("call_async: %v", err)
		}
		if c := f.command(); c["id"] != id || c["status"] != "pending" || c["persistent"] != true || c["sent_at"] != false {
			t.Errorf("waiting for its device: %v", c)
		}
		if pubs := f.ctl.TakePublished(); len(pubs) != 0 {
			t.Errorf("published to an offline device: %v", pubs)
		}
		f.ingest(f.msg("device/lamp-1/availability", "online", 2*time.Second))
		req := f.published()
		c := f.waitStatus("sent")
		if req.Topic != "device/lamp-1/request/"+c["correlation_id"].(string) {
			t.Errorf("sent on %s", req.Topic)
		}
		f.ingest(f.response("device/lamp-1/response/"+c["correlation_id"].(string), `{"on":false}`, nil))
		f.waitStatus("succeeded")

		// A synchronous call of a persistent command waits for it too.
		f.ingest(f.msg("device/lamp-1/availability", "offline", 3*time.Second))
		var res any
		var cerr error
		var call sync.WaitGroup
		call.Go(func() {
			res, cerr = f.call("call", map[string]any{"name": "get_state", "persistent": true, "timeout": int64(60)})
		})
		f.waitStatus("pending")
		f.ingest(f.msg("device/lamp-1/availability", "online", 4*time.Second))
		req = f.published()
		f.ingest(f.response(strings.Replace(req.Topic, "/request/", "/response/", 1), `7`, nil))
		call.Wait()
		if cerr != nil || res != int64(7) {
			t.Errorf("call of a persistent command = %#v, %v", res, cerr)
		}

		// Offline for longer than its timeout: it expires, never sent.
		f.ingest(f.msg("device/lamp-1/availability", "offline", 5*time.Second))
		if _, err := f.call("call_async", map[string]any{"name": "get_state", "persistent": true, "timeout": int64(1)}); err != nil {
			t.Fatal(err)
		}
		if c := f.waitStatus("timed_out"); c["sent_at"] != false {
			t.Errorf("expired: %v", c)
		}
		// Not persistent: sent to the offline device at once, expired by
		// the worker when nobody waits for it.
		if _, err := f.call("call_async", map[string]any{"name": "get_state", "timeout": int64(1)}); err != nil {
			t.Fatal(err)
		}
		f.published()
		f.waitStatus("timed_out")
		if pubs := f.ctl.TakePublished(); len(pubs) != 0 {
			t.Errorf("the expired persistent command went out: %v", pubs)
		}
	})
}

// TestCommandAccess: MQTT users call and read commands but do not make
// or change them by hand; managers may.
func TestCommandAccess(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newCommandFixture(t, r, nil)
		group := func(xmlID string) int64 {
			return f.exec(models.Superuser, "res.groups", "search", []any{[]any{[]any{"xml_id", "=", xmlID}}}, nil).([]int64)[0]
		}
		user := func(login, g string) int64 {
			return f.exec(models.Superuser, "res.users", "create", []any{map[string]any{"name": login, "login": login,
				"groups_id": []any{[]any{int64(4), group(g)}}}}, nil).(int64)
		}
		internal, mqttUser, manager := user("internal", models.GroupUser), user("mqttuser", mqtt.GroupUser), user("manager", mqtt.GroupManager)
		ctx := context.Background()
		try := func(uid int64, model, method string, args []any, kwargs map[string]any) (any, error) {
			return r.Execute(ctx, models.Call{UID: uid, Model: model, Method: method, Args: args, Kwargs: kwargs})
		}
		cmd, err := try(mqttUser, "iot.device", "call_async", []any{[]any{f.lamp}}, map[string]any{"name": "x"})
		if err != nil {
			t.Fatalf("MQTT user calls: %v", err)
		}
		if _, err := try(internal, "iot.device", "call_async", []any{[]any{f.lamp}}, map[string]any{"name": "x"}); models.KindOf(err) != models.KindAccess {
			t.Errorf("internal user calls: %v, want an AccessError", err)
		}
		vals := map[string]any{"device_id": f.lamp, "broker_id": f.broker, "name": "x"}
		for _, tc := range []struct {
			name         string
			uid          int64
			method       string
			args         []any
			ok           bool
			accessDenied bool
		}{
			{"MQTT user reads", mqttUser, "read", []any{[]any{cmd}}, true, false},
			{"internal user reads", internal, "read", []any{[]any{cmd}}, false, true},
			{"MQTT user creates", mqttUser, "create", []any{vals}, false, true},
			{"MQTT user writes", mqttUser, "write", []any{[]any{cmd}, map[string]any{"name": "y"}}, false, true},
			{"MQTT user deletes", mqttUser, "unlink", []any{[]any{cmd}}, false, true},
			{"manager creates", manager, "create", []any{vals}, true, false},
			{"manager deletes", manager, "unlink", []any{[]any{cmd}}, true, false},
		} {
			_, err := try(tc.uid, "iot.command", tc.method, tc.args, nil)
			if (err == nil) != tc.ok || tc.accessDenied && models.KindOf(err) != models.KindAccess {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
	})
}
