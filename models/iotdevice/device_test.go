package iotdevice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// deviceFixture is a registry with a broker and a note recorder.
type deviceFixture struct {
	t      *testing.T
	r      *app
	notes  *modelstest.Notes
	broker int64
	at     time.Time
}

func newDeviceFixture(t *testing.T, r *app, brokerVals map[string]any) *deviceFixture {
	f := &deviceFixture{t: t, r: r, notes: r.notes, at: time.Date(2026, 3, 4, 5, 6, 7, 250_000_000, time.UTC)}
	r.notes.Reset() // each fixture hears only of its own broker
	vals := map[string]any{"name": "B", "host": "127.0.0.1", "device_discovery": true}
	for k, v := range brokerVals {
		vals[k] = v
	}
	f.broker = f.exec(models.AdminUID, "mqtt.broker", "create", []any{vals}, nil).(int64)
	return f
}

func (f *deviceFixture) exec(uid int64, model, method string, args []any, kwargs map[string]any) any {
	f.t.Helper()
	res, err := f.r.Execute(context.Background(), models.Call{UID: uid, Model: model, Method: method, Args: args, Kwargs: kwargs})
	if err != nil {
		f.t.Fatalf("%s.%s: %v", model, method, err)
	}
	return res
}

// msg is a live message received at f.at plus offset.
func (f *deviceFixture) msg(topic, payload string, offset time.Duration) iotdevice.DeviceMessage {
	return iotdevice.DeviceMessage{Topic: topic, Payload: []byte(payload), Time: f.at.Add(offset)}
}

func (f *deviceFixture) ingest(msgs ...iotdevice.DeviceMessage) {
	f.t.Helper()
	if err := f.r.Devices.IngestDeviceMessages(context.Background(), f.broker, msgs); err != nil {
		f.t.Fatalf("IngestDeviceMessages: %v", err)
	}
}

// device reads a device of the fixture's broker by identifier; nil when
// there is none.
func (f *deviceFixture) device(identifier string) map[string]any {
	f.t.Helper()
	rows := f.exec(models.AdminUID, "iot.device", "search_read", []any{[]any{[]any{"identifier", "=", identifier}, []any{"broker_id", "=", f.broker}}}, nil).([]*models.Dict)
	if len(rows) == 0 {
		return nil
	}
	if len(rows) > 1 {
		f.t.Fatalf("%d devices %s", len(rows), identifier)
	}
	out := map[string]any{}
	rows[0].Range(func(k string, v any) bool { out[k] = v; return true })
	return out
}

func jsonField(t *testing.T, dev map[string]any, field string) map[string]any {
	t.Helper()
	s, _ := dev[field].(string)
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s = %q is not a JSON object: %v", field, s, err)
	}
	return v
}

const (
	thermoInfo = `{"deviceId":"thermo-1","producer":"Acme Sensors","model":"temperature-sensor","softwareVersion":"1.2.0","resources":["temperature"]}`
	lampInfo   = `{"deviceId":"lamp-1","producer":"Acme Lighting","model":"smart-lamp","resources":["switch"],"actions":["toggle","switch"]}`
)

func TestDeviceIngest(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newDeviceFixture(t, r, nil)
		info := f.msg("device/thermo-1/info", thermoInfo, 0)
		info.Retained = true
		f.ingest(
			info,
			f.msg("device/thermo-1/telemetry/temperature", `{"timestamp":1700000000000,"type":"TEMPERATURE_SENSOR","value":21.5,"unit":"°C"}`, time.Second),
			f.msg("device/lamp-1/availability", "online", 2*time.Second),
			f.msg("sensors/other", "1", 0),                        // no device topic
			f.msg("/homecontrol/device/data/esp32", `{"t":1}`, 0), // not this broker's patterns
			f.msg("device/thermo-1/action/reset", "{}", 0),        // outbound
		)

		thermo := f.device("thermo-1")
		if thermo == nil {
			t.Fatal("thermo-1 not created")
		}
		for field, want := range map[string]any{
			"name": "thermo-1", "manufacturer": "Acme Sensors", "device_model": "temperature-sensor", "software_version": "1.2.0",
			"type": "sensor", "connection": "mqtt", "driver": "smart_object", "topic_base": "device/thermo-1", "connected": true,
			"last_seen": "2026-03-04 05:06:08", "info": thermoInfo, "active": true,
		} {
			if thermo[field] != want {
				t.Errorf("thermo-1 %s = %#v, want %#v", field, thermo[field], want)
			}
		}
		if b, _ := thermo["broker_id"].([]any); len(b) != 2 || b[0] != f.broker {
			t.Errorf("broker_id = %v", thermo["broker_id"])
		}
		values := jsonField(t, thermo, "last_values")
		temp, _ := values["temperature"].(map[string]any)
		if temp["value"] != 21.5 || temp["unit"] != "°C" || temp["time"] != "2026-03-04 05:06:08" {
			t.Errorf("last_values = %v", values)
		}
		lamp := f.device("lamp-1")
		if lamp == nil || lamp["connected"] != true || lamp["type"] != "device" || lamp["driver"] != "generic_json" {
			t.Fatalf("lamp-1 from its availability = %v", lamp)
		}

		// One event per device message, in order, with the IoT box's keys.
		events := f.notes.Take(iotdevice.NoteDeviceEvent)
		if len(events) != 3 {
			t.Fatalf("%d device events, want 3: %v", len(events), events)
		}
		ev := events[1]
		if ev["device_identifier"] != "thermo-1" || ev["value"] != 21.5 || ev["sensor"] != "temperature" || ev["unit"] != "°C" ||
			ev["device_id"] != thermo["id"] || ev["broker_id"] != f.broker || ev["kind"] != "telemetry" {
			t.Errorf("telemetry event = %v", ev)
		}
		if ts, _ := ev["time"].(float64); ts != float64(f.at.Add(time.Second).UnixMicro())/1e6 {
			t.Errorf("time = %v, want the receive time in float seconds", ev["time"])
		}
		if events[0]["kind"] != "info" || events[2]["connected"] != true || events[2]["device_identifier"] != "lamp-1" {
			t.Errorf("events = %v", events)
		}
		updates := f.notes.Take(iotdevice.NoteDeviceUpdate)
		if len(updates) != 2 || updates[0]["created"] != true || updates[1]["device_identifier"] != "lamp-1" {
			t.Errorf("updates = %v, want one per created device", updates)
		}
		if len(f.notes.Early()) > 0 {
			t.Errorf("notified before the commit: %v", f.notes.Early())
		}
		f.notes.Reset()

		// Availability, events, a retained replay.
		retainedOnline := f.msg("device/lamp-1/availability", `{"state":"online"}`, 10*time.Second)
		retainedOnline.Retained = true
		f.ingest(
			f.msg("device/lamp-1/event", `{"event":"switch","state":"on","timestamp":1}`, 3*time.Second),
			f.msg("device/lamp-1/availability", "OFFLINE", 4*time.Second),
		)
		lamp = f.device("lamp-1")
		if lamp["connected"] != false || lamp["last_seen"] != "2026-03-04 05:06:11" {
			t.Errorf("after its will: connected %v, last_seen %v", lamp["connected"], lamp["last_seen"])
		}
		if ev := jsonField(t, lamp, "last_event"); ev["event"] != "switch" || ev["state"] != "on" || ev["time"] != "2026-03-04 05:06:10" {
			t.Errorf("last_event = %v", ev)
		}
		if u := f.notes.Take(iotdevice.NoteDeviceUpdate); len(u) != 1 || u[0]["connected"] != false || u[0]["created"] != false {
			t.Errorf("going offline: updates %v", u)
		}
		f.notes.Reset()
		f.ingest(retainedOnline)
		lamp = f.device("lamp-1")
		if lamp["connected"] != true || lamp["last_seen"] != "2026-03-04 05:06:11" {
			t.Errorf("a retained online says online but not seen: connected %v, last_seen %v", lamp["connected"], lamp["last_seen"])
		}
		// The descriptor arriving later makes the lamp a smart object.
		f.ingest(f.msg("device/lamp-1/info", lampInfo, 12*time.Second))
		lamp = f.device("lamp-1")
		if lamp["type"] != "actuator" || lamp["driver"] != "smart_object" || lamp["actions"] != "toggle,switch" || lamp["manufacturer"] != "Acme Lighting" {
			t.Errorf("lamp after its info = %v", lamp)
		}
	})
}

// TestDeviceIngestCoalesces: a batch writes each device once, however
// many of its messages it holds, and still notifies each message.
func TestDeviceIngestCoalesces(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newDeviceFixture(t, r, nil)
		f.ingest(f.msg("device/d1/info", `{"name":"D1"}`, 0), f.msg("device/d2/info", `{"name":"D2"}`, 0))
		f.notes.Reset()

		var mu sync.Mutex
		writes := map[string]int{}
		count := func(db *gorm.DB) {
			sql := db.Statement.SQL.String()
			if strings.Contains(sql, `"iot_device"`) && !strings.HasPrefix(strings.TrimSpace(sql), "SELECT") {
				mu.Lock()
				writes[strings.Fields(sql)[0]]++
				mu.Unlock()
			}
		}
		if err := r.DB().Callback().Raw().After("gorm:raw").Register("test:count_device_writes", count); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.DB().Callback().Raw().Remove("test:count_device_writes") })

		var batch []iotdevice.DeviceMessage
		for i := range 200 {
			dev := fmt.Sprintf("d%d", i%2+1)
			batch = append(batch, f.msg("device/"+dev+"/telemetry/n", fmt.Sprint(i), time.Duration(i)*time.Millisecond))
		}
		f.ingest(batch...)
		mu.Lock()
		if writes["UPDATE"] != 2 || writes["INSERT"] != 0 {
			t.Errorf("device writes for 200 messages of 2 known devices: %v, want 2 UPDATEs", writes)
		}
		mu.Unlock()
		if n := len(f.notes.Take(iotdevice.NoteDeviceEvent)); n != 200 {
			t.Errorf("%d events, want one per message", n)
		}
		if v := jsonField(t, f.device("d1"), "last_values")["n"].(map[string]any)["value"]; v != 198.0 {
			t.Errorf("d1 last value %v, want the batch's last (198)", v)
		}
		if v := jsonField(t, f.device("d2"), "last_values")["n"].(map[string]any)["value"]; v != 199.0 {
			t.Errorf("d2 last value %v, want 199", v)
		}

		// A device naming ever new sensors keeps a bounded record.
		batch = batch[:0]
		for i := range iotdevice.MaxSensors + 50 {
			batch = append(batch, f.msg(fmt.Sprintf("device/d3/telemetry/s%03d", i), "1", 0))
		}
		f.ingest(batch...)
		if n := len(jsonField(t, f.device("d3"), "last_values")); n != iotdevice.MaxSensors {
			t.Errorf("d3 keeps %d sensors, want at most %d", n, iotdevice.MaxSensors)
		}
	})
}

// TestDeviceIngestSeed002: the ESP32 layout, one topic per device or one
// shared topic with the id in the payload.
func TestDeviceIngestSeed002(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		for _, tc := range []struct {
			name, pattern, topic string
		}{
			{"per device", "/homecontrol/device/data/{id}", "/homecontrol/device/data/esp32-kitchen"},
			{"shared", "/homecontrol/device/data", "/homecontrol/device/data"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := newDeviceFixture(t, r, map[string]any{"name": tc.name, "client_id": tc.name, "device_info_topic": false, "device_event_topic": false,
					"device_availability_topic": false, "device_telemetry_topic": tc.pattern, "device_config_topic": "/homecontrol/device/config"})
				f.ingest(
					f.msg(tc.topic, `{"device_id":"esp32-kitchen","timestamp":1700000000,"temperature":23.1,"humidity":55,"rssi":-60}`, 0),
					f.msg(tc.topic, `{"temperature":1}`, 0), // shared: no id, skipped
				)
				dev := f.device("esp32-kitchen")
				if dev == nil {
					t.Fatal("esp32-kitchen not created")
				}
				values := jsonField(t, dev, "last_values")
				if len(values) != 3 || values["humidity"].(map[string]any)["value"] != 55.0 || values["rssi"].(map[string]any)["value"] != -60.0 {
					t.Errorf("last_values = %v, want temperature, humidity, rssi", values)
				}
				if dev["driver"] != "generic_json" || dev["topic_base"] != tc.topic || dev["connected"] != true {
					t.Errorf("device = %v", dev)
				}
				events := f.notes.Take(iotdevice.NoteDeviceEvent)
				if n := int64(len(events)); tc.name == "shared" && n != 1 || tc.name != "shared" && n != 2 {
					t.Errorf("%d events: %v", n, events)
				}
			})
		}
	})
}

// TestDeviceHandEdits: a renamed device keeps its name through new
// descriptors; a device deleted (by a client, or behind the cache's back)
// comes back with its next message; discovery off creates nothing.
func TestDeviceHandEdits(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newDeviceFixture(t, r, nil)
		f.ingest(f.msg("device/x/info", `{"name":"Sensor X","type":"scale"}`, 0))
		dev := f.device("x")
		if dev["name"] != "Sensor X" || dev["type"] != "scale" {
			t.Fatalf("from the descriptor: %v", dev)
		}
		f.exec(models.AdminUID, "iot.device", "write", []any{[]any{dev["id"]}, map[string]any{"name": "Kitchen scale", "type": "printer"}}, nil)
		f.ingest(f.msg("device/x/info", `{"name":"Sensor X v2","type":"scale","model":"m2"}`, time.Second))
		dev = f.device("x")
		if dev["name"] != "Kitchen scale" || dev["type"] != "printer" || dev["device_model"] != "m2" {
			t.Errorf("hand edits lost: %v", dev)
		}

		f.exec(models.AdminUID, "iot.device", "unlink", []any{[]any{dev["id"]}}, nil)
		f.ingest(f.msg("device/x/telemetry/w", "1", 2*time.Second))
		again := f.device("x")
		if again == nil || again["id"] == dev["id"] {
			t.Fatalf("deleted device not recreated: %v", again)
		}
		if err := r.DB().Exec(`DELETE FROM "iot_device" WHERE "id" = ?`, again["id"]).Error; err != nil {
			t.Fatal(err)
		}
		f.ingest(f.msg("device/x/telemetry/w", "2", 3*time.Second))
		if third := f.device("x"); third == nil || third["id"] == again["id"] {
			t.Fatalf("device deleted behind the cache not recreated: %v", third)
		}

		f.exec(models.AdminUID, "mqtt.broker", "write", []any{[]any{f.broker}, map[string]any{"device_discovery": false}}, nil)
		f.ingest(f.msg("device/y/info", `{}`, 0))
		if f.device("y") != nil {
			t.Errorf("device created with discovery off")
		}
		// A pattern change applies to the next batch.
		f.exec(models.AdminUID, "mqtt.broker", "write", []any{[]any{f.broker}, map[string]any{"device_discovery": true, "device_info_topic": "things/{id}/about"}}, nil)
		f.ingest(f.msg("device/y/info", `{}`, 0), f.msg("things/z/about", `{"name":"Z"}`, 0))
		if f.device("y") != nil || f.device("z") == nil {
			t.Errorf("old pattern still used, or new one not")
		}
	})
}

func TestBrokerDeviceTopics(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		ctl := &modelstest.Control{}
		r.ctl = ctl
		ctx := context.Background()
		call := func(method string, args ...any) (any, error) {
			return r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: method, Args: args})
		}
		res, err := call("create", map[string]any{"name": "B"})
		if err != nil {
			t.Fatal(err)
		}
		b := res.(int64)
		topics, ok, err := r.Devices.BrokerTopics(ctx, b)
		// Discovery is opt-in: a new broker subscribes nothing by itself.
		if err != nil || !ok || topics.Discovery || topics.Patterns.Telemetry != "device/{id}/telemetry/{sensor}" {
			t.Fatalf("defaults: %+v, %v, %v", topics, ok, err)
		}
		// The form shows what turning it on subscribes.
		filters := func() any {
			t.Helper()
			res, err := call("read", []any{b}, []any{"device_discovery_filters"})
			if err != nil {
				t.Fatal(err)
			}
			v, _ := res.([]*models.Dict)[0].Get("device_discovery_filters")
			return v
		}
		if got := filters(); got != "" && got != false {
			t.Errorf("filters with discovery off = %v", got)
		}
		if _, err := call("write", []any{b}, map[string]any{"device_discovery": true}); err != nil {
			t.Fatal(err)
		}
		if got, want := filters(), "device/+/info, device/+/telemetry/+, device/+/event, device/+/availability, device/+/response/+, homeassistant/+/+/config, homeassistant/+/+/+/config"; got != want {
			t.Errorf("filters = %v, want %s", got, want)
		}
		if topics, _, _ := r.Devices.BrokerTopics(ctx, b); !topics.Discovery {
			t.Errorf("discovery still off after turning it on")
		}
		for _, tc := range []struct {
			field, value, msg string
		}{
			{"device_telemetry_topic", "device/+/telemetry", "Device telemetry topic: 'device/+/telemetry': "},
			{"device_action_topic", "device/{id}/{sensor}", "Device action topic"},
			{"device_event_topic", "device/{id}/info", "Device event topic"},
		} {
			_, err := call("write", []any{b}, map[string]any{tc.field: tc.value})
			if models.KindOf(err) != models.KindValidation || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s = %q: %v, want a ValidationError naming %q", tc.field, tc.value, err, tc.msg)
			}
		}
		// Client values are quoted as Python's repr, as Odoo's messages do.
		_, err = r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "iot.device", Method: "create",
			Args: []any{map[string]any{"name": "D", "identifier": "a/b", "broker_id": b}}})
		if want := "Identifier: 'a/b' must be one topic level"; models.KindOf(err) != models.KindValidation || !strings.Contains(err.Error(), want) {
			t.Errorf("identifier a/b: %v, want a ValidationError %q", err, want)
		}
		ctl.Changed = nil
		if _, err := call("write", []any{b}, map[string]any{"device_telemetry_topic": "/homecontrol/device/data/{id}"}); err != nil {
			t.Fatal(err)
		}
		if len(ctl.Changed) != 1 {
			t.Errorf("a pattern change must restart the daemon: %v", ctl.Changed)
		}
	})
}
