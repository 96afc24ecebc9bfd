package iotbox

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	mqttlistener "github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// The action path with real parts: the box, iot.device.action, the real
// listener service publishing on a real Mosquitto, and a device client
// there. The device's messages enter the record layer through
// iotdevice.Addon.IngestDeviceMessages, the entry point the listener's batch
// writer uses, and come back through the real bus to a long poll that
// carries the action's owner and data.
func TestActionEndToEnd(t *testing.T) {
	mq := testmqtt.Start(t, testmqtt.Options{})
	f := newFixture(t, Options{PollTimeout: 200 * time.Millisecond})
	svc := mqttlistener.New(f.reg.MQTT, f.reg.Devices, mqttlistener.Options{Logger: modelstest.Logger(t)})
	f.svc = svc
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := svc.Run(ctx); err != nil {
			t.Errorf("listener: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	admin := func(model, method string, args ...any) any {
		t.Helper()
		res, err := f.reg.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args})
		if err != nil {
			t.Fatalf("%s.%s: %v", model, method, err)
		}
		return res
	}
	broker := admin("mqtt.broker", "create", map[string]any{"device_discovery": true, "name": "plant", "host": testmqtt.Host, "port": strconv.Itoa(mq.Port()), "connect_timeout": int64(3)}).(int64)
	if err := svc.StartService(context.Background()); err != nil {
		t.Fatal(err)
	}
	ingest := func(topic, payload string, retained bool) {
		t.Helper()
		err := f.reg.Devices.IngestDeviceMessages(context.Background(), broker, []iotdevice.DeviceMessage{{Topic: topic, Payload: []byte(payload), Retained: retained, Time: time.Now()}})
		if err != nil {
			t.Fatalf("ingest %s: %v", topic, err)
		}
	}

	// The device obeys its action topic and announces itself.
	actions := testmqtt.Subscribe(t, testmqtt.Connect(t, mq.URL(), "lamp-1", nil), "device/lamp-1/action/#", 1)
	ingest("device/lamp-1/info", `{"name":"Lamp","type":"actuator","actions":["toggle"]}`, true)
	if ids, _ := admin("iot.device", "search", []any{[]any{"identifier", "=", "lamp-1"}}).([]int64); len(ids) != 1 {
		t.Fatalf("devices lamp-1: %v, want one", ids)
	}
	start := float64(time.Now().UnixNano()) / 1e9

	action := func(sid, device, data string) reply {
		body, _ := json.Marshal(map[string]any{"params": map[string]any{"session_id": sid, "device_identifier": device, "data": data}})
		return f.do(t, ActionPath, req{body: string(body), sid: f.sid})
	}
	data := `{"action":"toggle","state":"on","iot_idempotent_id":"k1"}`
	if r := action("client-A", "lamp-1", data); string(r.Result) != "true" {
		t.Fatalf("action answered %s, want true", r.raw)
	}
	m := testmqtt.Receive(t, actions, waitLimit, "the action at the device")
	var got map[string]any
	if m.Topic() != "device/lamp-1/action/toggle" || json.Unmarshal(m.Payload(), &got) != nil || got["state"] != "on" {
		t.Fatalf("device got %s %s", m.Topic(), m.Payload())
	}

	// The device reports; the poll gets it with the action's owner and data.
	ingest("device/lamp-1/event", `{"value":"on"}`, false)
	var ev deviceEvent
	for last, deadline := start, time.Now().Add(waitLimit); ; {
		r := f.poll(t, "listener-B", last, "lamp-1")
		if r.Result != nil {
			ev = mustEvent(t, r)
			last = ev.Time
			if string(ev.Value) == `"on"` {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the device's event never reached the poll")
		}
	}
	if ev.Owner == nil || *ev.Owner != "client-A" || ev.Session != "listener-B" || ev.Device != "lamp-1" {
		t.Fatalf("event owner %v, session %q, device %q", ev.Owner, ev.Session, ev.Device)
	}
	var reqData map[string]any
	if json.Unmarshal(ev.RequestData, &reqData) != nil || reqData["state"] != "on" || reqData["iot_idempotent_id"] != "k1" {
		t.Fatalf("request_data = %s", ev.RequestData)
	}

	// A retry with the same iot_idempotent_id is dropped before it is sent;
	// unknown devices answer false; a user without access gets the error.
	sent := func() int64 {
		return admin("mqtt.signal.history", "search_count", []any{[]any{"direction", "=", "send"}}).(int64)
	}
	before := sent()
	if r := action("client-A", "lamp-1", data); string(r.Result) != "false" {
		t.Fatalf("duplicate action answered %s, want false", r.raw)
	}
	if r := action("client-A", "ghost", `{"action":"toggle"}`); string(r.Result) != "false" {
		t.Fatalf("action on an unknown device answered %s, want false", r.raw)
	}
	if n := sent(); n != before {
		t.Fatalf("%d messages sent by the duplicate and the unknown device, want 0", n-before)
	}
	modelstest.CreateUser(t, f.reg.Registry, "nobody", "nobody-pw")
	body := `{"params":{"session_id":"x","device_identifier":"lamp-1","data":"{\"action\":\"toggle\"}"}}`
	r := f.do(t, ActionPath, req{body: body, sid: modelstest.Login(t, f.reg.Registry, "nobody", "nobody-pw")})
	if r.Error == nil || r.Error.Data.Name != "odoo.exceptions.AccessError" {
		t.Fatalf("action by a user without access: %s", r.raw)
	}
	// A bare string names the action, as DeviceProxy.action("toggle") sends it.
	if r := action("client-A", "lamp-1", `"toggle"`); string(r.Result) != "true" {
		t.Fatalf("action \"toggle\" answered %s", r.raw)
	}
	select {
	case m := <-actions:
		if m.Topic() != "device/lamp-1/action/toggle" {
			t.Fatalf("device got %s", m.Topic())
		}
	case <-time.After(waitLimit):
		t.Fatal("the second action never reached the device")
	}
}
