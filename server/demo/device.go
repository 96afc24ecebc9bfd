package demo

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
)

// What the simulated devices are and what they publish. This file is pure:
// a device turns a clock tick or an action into messages, and run.go puts
// them on the wire.

// Device ids of the demo.
const (
	LampID    = "lamp-1"
	ThermoID  = "thermo-1"
	ClimateID = "climate-1"
	ESP32ID   = "esp32-kitchen"
)

// message is one publish of a device.
type message struct {
	topic   string
	payload []byte
	qos     byte
	retain  bool
	corr    []byte // MQTT 5 Correlation Data of an answer (the lamp's client speaks MQTT 5)
}

// sensor is a value drifting around base within +/- swing, with an alert
// event when it goes above alertAbove (0: none) and when it comes back.
// With a wave, the value it drifts around itself moves, as a room's
// temperature does over a day: base + wave * sin(2 pi tick / period).
type sensor struct {
	name, kind, unit  string
	base, swing, step float64
	alertAbove        float64
	wave              float64 // amplitude of the slow cycle (0: none)
	period            int     // its length in ticks

	value float64
	alert bool
	ticks int
}

// target is what the value is pulled toward at this tick.
func (s *sensor) target() float64 {
	if s.wave == 0 || s.period <= 0 {
		return s.base
	}
	return s.base + s.wave*math.Sin(2*math.Pi*float64(s.ticks%s.period)/float64(s.period))
}

// device is one simulated device. Only its own goroutine touches it.
type device struct {
	id       string
	model    string
	producer string
	version  string
	sensors  []*sensor
	lamp     bool // has a switch it toggles on action
	esp32    bool // publishes one JSON record on /homecontrol/device/data/<id>, as the ESP32 firmware does

	on  bool // the lamp's state
	rng *rand.Rand
}

// devices returns a fresh set of the demo's devices.
func devices() []*device {
	return []*device{
		// thermo-1 cycles between about 19 and 29 °C every 5 minutes (150
		// ticks of 2 s), so the demo rules' thresholds (above 28 switches
		// lamp-1 on, below 26 off: ThermoOnAbove, ThermoOffBelow) are
		// crossed both ways every cycle.
		newDevice(&device{id: ThermoID, model: "temperature-sensor", producer: "Acme Sensors", version: "1.2.0",
			sensors: []*sensor{{name: "temperature", kind: "TEMPERATURE_SENSOR", unit: "°C", base: 24, swing: 6, step: 0.4, alertAbove: 27,
				wave: 5, period: 150}}}),
		newDevice(&device{id: ClimateID, model: "climate-sensor", producer: "Acme Sensors", version: "2.0.1",
			sensors: []*sensor{
				{name: "temperature", kind: "TEMPERATURE_SENSOR", unit: "°C", base: 19, swing: 2, step: 0.3},
				{name: "humidity", kind: "HUMIDITY_SENSOR", unit: "%", base: 45, swing: 10, step: 1.5, alertAbove: 47},
			}}),
		newDevice(&device{id: LampID, model: "smart-lamp", producer: "Acme Lighting", version: "0.9.4", lamp: true}),
		newDevice(&device{id: ESP32ID, model: "esp32-dht22", producer: "ESP Sensors", version: "0.3.0", esp32: true,
			sensors: []*sensor{
				{name: "temperature", kind: "TEMPERATURE_SENSOR", unit: "°C", base: 23, swing: 2, step: 0.2},
				{name: "humidity", kind: "HUMIDITY_SENSOR", unit: "%", base: 55, swing: 8, step: 1},
			}}),
	}
}

// newDevice seeds the device's random walk from its id, so a run is
// reproducible, and starts each sensor at its base value.
func newDevice(d *device) *device {
	h := fnv.New64a()
	h.Write([]byte(d.id))
	d.rng = rand.New(rand.NewPCG(h.Sum64(), 42))
	for _, s := range d.sensors {
		s.value = s.base
	}
	return d
}

func (d *device) topic(parts ...string) string {
	return "device/" + d.id + "/" + strings.Join(parts, "/")
}

// actionFilter is what the device subscribes to for its actions.
func (d *device) actionFilter() string { return d.topic("action", "#") }

// requestFilter is what the lamp subscribes to for commands
// (iot.device.call on the broker's default request topic).
func (d *device) requestFilter() string { return d.topic("request", "+") }

// answer answers a command request received on
// device/<id>/request/<request_id>, {"method", "params"}: get_state gives
// the lamp's state, another method an {"error"}. It goes where MQTT 5
// says, the request's Response Topic with its Correlation Data, when the
// request has both; else to device/<id>/response/<request_id>, the
// convention of MQTT 3.1.1 where the request id in the topic is the
// correlation. ok is false for what is no request of this device.
func (d *device) answer(req inbound) (message, bool) {
	reqID, ok := strings.CutPrefix(req.topic, d.topic("request")+"/")
	if !ok || !d.lamp || reqID == "" || strings.Contains(reqID, "/") {
		return message{}, false
	}
	var body struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(req.payload, &body) != nil {
		return message{}, false
	}
	var result map[string]any
	switch body.Method {
	case "get_state":
		state := "off"
		if d.on {
			state = "on"
		}
		result = map[string]any{"on": d.on, "state": state, "model": d.model, "version": d.version}
	default:
		result = map[string]any{"error": "unknown method " + strconvQuote(body.Method)}
	}
	m := message{topic: d.topic("response", reqID), payload: mustJSON(result), qos: 1}
	if req.responseTopic != "" && len(req.corr) > 0 {
		m.topic, m.corr = req.responseTopic, req.corr
	}
	return m, true
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// infoMessage is the retained descriptor a consumer reads first.
func (d *device) infoMessage() message {
	info := map[string]any{
		"deviceId": d.id, "model": d.model, "producer": d.producer, "softwareVersion": d.version,
	}
	var names []string
	for _, s := range d.sensors {
		names = append(names, s.name)
	}
	if d.lamp {
		names = append(names, "switch")
		info["actions"] = []string{"toggle", "switch"}
	}
	info["resources"] = names
	return message{topic: d.topic("info"), payload: mustJSON(info), qos: 1, retain: true}
}

// availability is the retained online or offline message on the device's
// availability topic (seed 004 topics; the ESP32 firmware has none):
// online when it connects, offline as its last will and when it leaves.
func (d *device) availability(online bool) (message, bool) {
	if d.esp32 {
		return message{}, false
	}
	mk := iot.WillMessage
	if online {
		mk = iot.OnlineMessage
	}
	p, err := mk(iot.DefaultPatterns(), d.id)
	if err != nil {
		return message{}, false // the demo ids are valid topic levels
	}
	return message{topic: p.Topic, payload: p.Payload, qos: p.QoS, retain: p.Retain}, true
}

// stateMessages are the retained events describing the current state, sent
// on connect so a new consumer sees it.
func (d *device) stateMessages(now time.Time) []message {
	if d.lamp {
		return []message{d.switchEvent(now)}
	}
	return nil
}

// tick advances the sensors one step and returns the telemetry, plus an
// event for each alert that started or ended.
func (d *device) tick(now time.Time) []message {
	var out []message
	for _, s := range d.sensors {
		// A random walk pulled back toward its target, so alerts come
		// and go.
		s.ticks++
		s.value += (d.rng.Float64()*2-1)*s.step + (s.target()-s.value)*0.1
		s.value = math.Max(s.base-s.swing, math.Min(s.base+s.swing, s.value))
		if s.alertAbove > 0 && (s.value > s.alertAbove) != s.alert {
			s.alert = !s.alert
			state := "normal"
			if s.alert {
				state = "alert"
			}
			out = append(out, d.event(now, map[string]any{"event": s.name + "_high", "state": state, "value": round1(s.value)}))
		}
	}
	switch {
	case d.esp32:
		rec := map[string]any{"device_id": d.id, "timestamp": now.Unix(),
			"battery_v": round1(3.7 + d.rng.Float64()*0.4), "rssi": -50 - d.rng.IntN(30)}
		for _, s := range d.sensors {
			rec[s.name] = round1(s.value)
		}
		out = append(out, message{topic: "/homecontrol/device/data/" + d.id, payload: mustJSON(rec)})
	default:
		for _, s := range d.sensors {
			out = append(out, message{topic: d.topic("telemetry", s.name), payload: mustJSON(map[string]any{
				"timestamp": now.UnixMilli(), "type": s.kind, "value": round1(s.value), "unit": s.unit})})
		}
		if d.lamp {
			out = append(out, message{topic: d.topic("telemetry", "switch"), payload: mustJSON(map[string]any{
				"timestamp": now.UnixMilli(), "type": "SWITCH", "value": d.on})})
		}
	}
	return out
}

// act obeys an action received on device/<id>/action/<name> and returns
// what the device publishes in answer: the lamp's new state as a retained
// event. Actions a device does not know are ignored (nil).
func (d *device) act(now time.Time, topic string, payload []byte) []message {
	name, ok := strings.CutPrefix(topic, d.topic("action")+"/")
	if !ok || !d.lamp {
		return nil
	}
	on := d.on
	switch name {
	case "toggle":
		on = !d.on
	case "switch":
		var cmd struct {
			State string `json:"state"`
		}
		text := strings.TrimSpace(string(payload))
		if json.Unmarshal(payload, &cmd) == nil && cmd.State != "" {
			text = cmd.State
		}
		switch strings.ToLower(text) {
		case "on", "1", "true":
			on = true
		case "off", "0", "false":
			on = false
		default:
			return nil
		}
	default:
		return nil
	}
	if on == d.on {
		return nil // no change, no event
	}
	d.on = on
	return []message{d.switchEvent(now), {topic: d.topic("telemetry", "switch"),
		payload: mustJSON(map[string]any{"timestamp": now.UnixMilli(), "type": "SWITCH", "value": d.on})}}
}

func (d *device) switchEvent(now time.Time) message {
	state := "off"
	if d.on {
		state = "on"
	}
	return d.event(now, map[string]any{"event": "switch", "state": state})
}

// event is a retained device/<id>/event message.
func (d *device) event(now time.Time, body map[string]any) message {
	body["timestamp"] = now.UnixMilli()
	return message{topic: d.topic("event"), payload: mustJSON(body), qos: 1, retain: true}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values are marshalled here
	}
	return b
}
