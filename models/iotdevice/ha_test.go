package iotdevice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// haFixture is one file of testdata/ha: a device's discovery configs as
// it publishes them, its states, and what the device record must say.
type haFixture struct {
	Configs []struct {
		Topic     string          `json:"topic"`
		Payload   json.RawMessage `json:"payload"`
		Raw       string          `json:"raw"`
		Oversized bool            `json:"oversized"`
	} `json:"configs"`
	States   []struct{ Topic, Payload string } `json:"states"`
	Want     haWant                            `json:"want"`
	Others   []haWant                          `json:"others"`
	Commands []struct {
		Device, Action, Topic, Payload string
		Value                          any
		Refused                        bool
	} `json:"commands"`
	Offline struct{ Topic, Payload string } `json:"offline"`
	Invalid int64                           `json:"invalid"`
	Ignored int64                           `json:"ignored"`
}

type haWant struct {
	Identifier, Name, Manufacturer, Type, Driver, Actions string
	DeviceModel                                           string `json:"device_model"`
	SoftwareVersion                                       string `json:"software_version"`
	Connected                                             *bool
	Values                                                map[string]any
	Units                                                 map[string]string
}

func secondsN(n int) time.Duration { return time.Duration(n) * time.Second }

func readHAFixture(t *testing.T, name string) haFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ha", name))
	if err != nil {
		t.Fatal(err)
	}
	var f haFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// configMessages are the fixture's configs as retained messages.
func (hf haFixture) configMessages(f *deviceFixture) []iotdevice.DeviceMessage {
	var out []iotdevice.DeviceMessage
	for _, c := range hf.Configs {
		payload := string(c.Payload)
		switch {
		case c.Raw != "":
			payload = c.Raw
		case c.Oversized:
			payload = `{"name":"x","stat_t":"a/b","pad":"` + strings.Repeat("x", iot.MaxHAConfig) + `"}`
		}
		m := f.msg(c.Topic, payload, 0)
		m.Retained = true
		out = append(out, m)
	}
	return out
}

func (hf haFixture) stateMessages(f *deviceFixture) []iotdevice.DeviceMessage {
	var out []iotdevice.DeviceMessage
	for i, s := range hf.States {
		out = append(out, f.msg(s.Topic, s.Payload, secondsN(i+1)))
	}
	return out
}

// checkDevice compares a device record with what the fixture wants.
func checkHADevice(t *testing.T, f *deviceFixture, w haWant) {
	t.Helper()
	dev := f.device(w.Identifier)
	if dev == nil {
		t.Fatalf("no device %s", w.Identifier)
	}
	for field, want := range map[string]string{"name": w.Name, "manufacturer": w.Manufacturer, "type": w.Type, "driver": w.Driver,
		"device_model": w.DeviceModel, "software_version": w.SoftwareVersion} {
		if want != "" && dev[field] != want {
			t.Errorf("%s: %s = %v, want %q", w.Identifier, field, dev[field], want)
		}
	}
	if got, _ := dev["actions"].(string); got != w.Actions {
		t.Errorf("%s: actions = %q, want %q", w.Identifier, got, w.Actions)
	}
	if w.Connected != nil && dev["connected"] != *w.Connected {
		t.Errorf("%s: connected = %v, want %v", w.Identifier, dev["connected"], *w.Connected)
	}
	values := jsonField(t, dev, "last_values")
	for sensor, want := range w.Values {
		r, _ := values[sensor].(map[string]any)
		if r == nil || fmt.Sprint(r["value"]) != fmt.Sprint(want) {
			t.Errorf("%s: last_values[%q] = %v, want value %v (all: %v)", w.Identifier, sensor, values[sensor], want, values)
			continue
		}
		if u := w.Units[sensor]; u != "" && r["unit"] != u {
			t.Errorf("%s: %s unit = %v, want %q", w.Identifier, sensor, r["unit"], u)
		}
	}
	if len(values) != len(w.Values) {
		t.Errorf("%s: %d sensors %v, want %d", w.Identifier, len(values), values, len(w.Values))
	}
}

func TestHADiscovery(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		for _, name := range []string{"tasmota.json", "zigbee2mqtt.json", "esphome.json"} {
			t.Run(name, func(t *testing.T) {
				hf := readHAFixture(t, name)
				f := newDeviceFixture(t, r, map[string]any{"name": name})
				changed := 0
				r.Devices.OnHATopics(func(b int64) {
					if b == f.broker {
						changed++
					}
				})
				f.ingest(hf.configMessages(f)...)
				if changed != 1 {
					t.Errorf("HATopics changes told: %d, want 1", changed)
				}
				topics, err := r.Devices.HATopics(context.Background(), f.broker)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range hf.States {
					if !slices.Contains(topics, s.Topic) {
						t.Errorf("HATopics %q lacks %s", topics, s.Topic)
					}
				}
				f.ingest(hf.stateMessages(f)...)
				checkHADevice(t, f, hf.Want)
				for _, o := range hf.Others {
					checkHADevice(t, f, o)
				}

				ctl := &modelstest.Control{}
				r.ctl = ctl
				defer func() { r.ctl = nil }()
				for _, c := range hf.Commands {
					ident := c.Device
					if ident == "" {
						ident = hf.Want.Identifier
					}
					data := map[string]any{"action": c.Action}
					if c.Value != nil {
						data["value"] = c.Value
					}
					ctl.TakePublished()
					_, err := r.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "iot.device", Method: "action",
						Args: []any{[]any{f.device(ident)["id"]}}, Kwargs: map[string]any{"data": data}})
					pubs := ctl.TakePublished()
					if c.Refused {
						if models.KindOf(err) != models.KindUser || len(pubs) != 0 {
							t.Errorf("%s: %v, published %v; want a UserError, nothing sent", c.Action, err, pubs)
						}
						continue
					}
					if err != nil || len(pubs) != 1 || pubs[0].Topic != c.Topic || string(pubs[0].Payload) != c.Payload || pubs[0].Retain {
						t.Errorf("%s: %v, published %+v; want %s %s", c.Action, err, pubs, c.Topic, c.Payload)
					}
				}

				f.ingest(f.msg(hf.Offline.Topic, hf.Offline.Payload, secondsN(100)))
				if dev := f.device(hf.Want.Identifier); dev["connected"] != false {
					t.Errorf("after %s %s: connected = %v, want false", hf.Offline.Topic, hf.Offline.Payload, dev["connected"])
				}

				// An empty retained config removes its entity, its reading
				// and its actions.
				first := hf.Configs[0]
				removed := f.msg(first.Topic, "", secondsN(101))
				removed.Retained = true
				f.ingest(removed)
				dev := f.device(hf.Want.Identifier)
				ents := jsonField(t, dev, "ha_config")
				_, _, _, key, _ := iot.ParseHATopic(first.Topic)
				if _, still := ents[key]; still || len(ents) == 0 {
					t.Errorf("after the empty config of %s: entities %v", key, ents)
				}
			})
		}
	})
}

func TestHADiscoveryRemoval(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		hf := readHAFixture(t, "esphome.json")
		f := newDeviceFixture(t, r, nil)
		f.ingest(hf.configMessages(f)...)
		f.ingest(hf.stateMessages(f)...)
		gone := f.msg("homeassistant/switch/livingroom/relay/config", "", secondsN(50))
		gone.Retained = true
		f.ingest(gone, f.msg("livingroom/switch/relay/state", "OFF", secondsN(51)))
		dev := f.device("a4cf12ab34cd")
		if v := jsonField(t, dev, "last_values"); v["Relay"] != nil {
			t.Errorf("Relay still in last_values: %v", v)
		}
		if a := dev["actions"]; a != "Restart:press,Setpoint:set" {
			t.Errorf("actions = %v", a)
		}
		topics, _ := r.Devices.HATopics(context.Background(), f.broker)
		if slices.Contains(topics, "livingroom/switch/relay/state") {
			t.Errorf("the removed entity's state topic is still listened: %v", topics)
		}
		// A device deleted by hand: its entities' topics go with it.
		f.exec(models.AdminUID, "iot.device", "unlink", []any{[]any{dev["id"]}}, nil)
		f.ingest(f.msg("livingroom/sensor/temperature/state", "20", secondsN(60)))
		if f.device("a4cf12ab34cd") != nil {
			t.Errorf("a state message re-created a deleted device")
		}
		if topics, _ := r.Devices.HATopics(context.Background(), f.broker); len(topics) != 0 {
			t.Errorf("topics of a deleted device: %v", topics)
		}
	})
}

func TestHADiscoveryBadConfigs(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		hf := readHAFixture(t, "bad.json")
		good := readHAFixture(t, "esphome.json")
		f := newDeviceFixture(t, r, nil)
		before := r.Devices.HAStats()
		// The bad ones around a good one, in one batch: the good one
		// still makes its device.
		msgs := hf.configMessages(f)
		msgs = append(msgs[:3], append(good.configMessages(f)[:1], msgs[3:]...)...)
		f.ingest(msgs...)
		after := r.Devices.HAStats()
		if got := after.Invalid - before.Invalid; got != hf.Invalid {
			t.Errorf("invalid counted %d, want %d", got, hf.Invalid)
		}
		if got := after.Ignored - before.Ignored; got != hf.Ignored {
			t.Errorf("ignored counted %d, want %d", got, hf.Ignored)
		}
		for _, id := range []string{"bad1", "bad2", "bad3", "bad4", "bad5", "bad6"} {
			if f.device(id) != nil {
				t.Errorf("device %s created from a bad config", id)
			}
		}
		if f.device("a4cf12ab34cd") == nil {
			t.Errorf("the good config among bad ones made no device")
		}
	})
}

func TestHADiscoveryBounds(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newDeviceFixture(t, r, nil)
		var msgs []iotdevice.DeviceMessage
		for i := range iotdevice.MaxHAEntities + 6 {
			msgs = append(msgs, f.msg(fmt.Sprintf("homeassistant/sensor/flood/s%d/config", i),
				fmt.Sprintf(`{"name":"S%d","stat_t":"flood/s%d","dev":{"ids":["flood"]}}`, i, i), 0))
		}
		before := r.Devices.HAStats()
		f.ingest(msgs...)
		if got := len(jsonField(t, f.device("flood"), "ha_config")); got != iotdevice.MaxHAEntities {
			t.Errorf("%d entities stored, want the bound %d", got, iotdevice.MaxHAEntities)
		}
		if got := r.Devices.HAStats().Overflow - before.Overflow; got != 6 {
			t.Errorf("overflow counted %d, want 6", got)
		}
	})
}

func TestHADiscoveryFollowsDeviceDiscovery(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		hf := readHAFixture(t, "esphome.json")
		f := newDeviceFixture(t, r, map[string]any{"device_discovery": false})
		f.ingest(hf.configMessages(f)...)
		if f.device("a4cf12ab34cd") != nil {
			t.Errorf("a device discovered on a broker with discovery off")
		}
		if topics, _ := r.Devices.HATopics(context.Background(), f.broker); len(topics) != 0 {
			t.Errorf("HATopics with discovery off: %v", topics)
		}
	})
}

// TestHADiscoverySensorSeries: a discovered sensor's chart is the series
// of its state topic, read by its value template (Tasmota's SENSOR
// carries several sensors).
func TestHADiscoverySensorSeries(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		hf := readHAFixture(t, "tasmota.json")
		f := newDeviceFixture(t, r, nil)
		f.ingest(hf.configMessages(f)...)
		f.ingest(hf.stateMessages(f)...)
		ctx := context.Background()
		base := time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)
		var rows []mqtt.HistoryRow
		for i, p := range []string{`{"BME280":{"Temperature":20},"ENERGY":{"Power":30}}`, `{"BME280":{"Temperature":22},"ENERGY":{"Power":50}}`} {
			rows = append(rows, mqtt.HistoryRow{BrokerID: f.broker, Topic: "tele/tasmota_5C3D1A/SENSOR", Payload: []byte(p), Direction: "receive", Timestamp: base.Add(secondsN(10 * (i + 1)))})
		}
		if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
			t.Fatal(err)
		}
		kw := map[string]any{"start": "2026-05-06 10:00:00", "end": "2026-05-06 11:00:00", "interval_seconds": int64(3600)}
		got := f.exec(models.AdminUID, "iot.device", "get_sensor_series", []any{[]any{f.device("5C3D1A")["id"]}}, kw).([]any)
		avg := map[string]any{}
		for _, sv := range got[0].(map[string]any)["sensors"].([]any) {
			s := sv.(map[string]any)
			if pts := s["series"].(map[string]any)["points"].([]any); len(pts) == 1 {
				avg[s["sensor"].(string)] = pts[0].(map[string]any)["avg"]
			}
		}
		if avg["BME280 Temperature"] != 21.0 || avg["ENERGY Power"] != 40.0 {
			t.Errorf("averages %v, want BME280 Temperature 21, ENERGY Power 40", avg)
		}
	})
}
