// Package demo is the zero-setup start of --demo: it fills an empty
// database with a broker record pointing at the embedded broker, its
// subscriptions and signals (Seed), and runs simulated devices that publish
// over real MQTT the way the devices of the seeds do (Run): a retained
// device/<id>/info descriptor, a retained device/<id>/availability (online
// on connect, offline as their last will), periodic telemetry, retained
// events on state changes, and actions on device/<id>/action/# that they
// obey. Two rules (issue 11) switch lamp-1 on when thermo-1 goes above
// 28 °C and off below 26 (seed_rules.go). The demo broker discovers the
// devices as iot.device records (seed 004's topics are its device
// topics). The ESP32 publishes seed 002's /homecontrol/device/data/<id>,
// which those topics do not match: a broker has one set of device topics,
// so a second record on the same embedded broker, ESP32BrokerName, has
// seed 002's and discovers it (it used to be on no broker's, and never
// showed on Devices).
//
// Seed goes through the model layer's RPC methods (create, write,
// subscribe_mqtt) as the superuser, so the records are exactly what a client
// would have made. Run needs nothing but a broker address.
package demo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// BrokerName is the fixed name by which later starts find the demo broker.
const BrokerName = "Demo broker (embedded)"

// ESP32BrokerName is the demo's second broker record, on the same
// embedded broker, with seed 002's device topics: the ESP32's.
const ESP32BrokerName = "Demo broker, ESP32 topics (embedded)"

// ESP32Filter is the subscription of Subscriptions that belongs to the
// ESP32 broker (its history rows then link the broker its device is on).
const ESP32Filter = "/homecontrol/device/data/#"

// Subscriptions are the topic filters of the demo broker, with their QoS.
var Subscriptions = []struct {
	Topic string
	QoS   int64
}{
	{"device/+/info", 1},
	{"device/+/telemetry/#", 0},
	{"device/+/event", 1},
	{"device/+/availability", 1},
	{"device/+/response/+", 1}, // the lamp's answers to commands
	{ESP32Filter, 0},
	{LampToggleTopic, 1},
	{LampSwitchTopic, 1},
}

// The lamp's action topics, each with a signal that sends to it.
const (
	LampToggleTopic = "device/" + LampID + "/action/toggle"
	LampSwitchTopic = "device/" + LampID + "/action/switch"
)

// signals are the demo's outgoing messages: topic (one of Subscriptions),
// payload, QoS.
var signals = []struct {
	topic, payload string
	qos            int64
}{
	{LampToggleTopic, `{"action":"toggle"}`, 1},
	{LampSwitchTopic, `{"state":"on"}`, 1},
}

// Seed prepares the demo records for a broker listening on host:port. On a
// database without any mqtt.broker it creates the demo broker, its
// subscriptions (enabled through subscribe_mqtt, so the listener subscribes
// them on connect), its signals and the demo rules (seedRules), and returns
// true. On a later start it finds the demo broker by BrokerName and moves
// it to host:port, which may differ from run to run when the wanted port
// was taken, and adds the demo rules to a database that has none; other
// databases are left alone.
func Seed(ctx context.Context, reg *models.Registry, host string, port int) (created bool, err error) {
	s := seeder{ctx: ctx, reg: reg}
	inactive := map[string]any{"context": map[string]any{"active_test": false}}
	ids, err := s.ids("mqtt.broker", []any{[]any{"name", "=", BrokerName}}, inactive)
	if err != nil {
		return false, err
	}
	if len(ids) > 0 {
		if err := s.moveBroker(ids[0], host, port); err != nil {
			return false, err
		}
		if err := s.esp32Broker(ids[0], host, port); err != nil {
			return false, err
		}
		return false, s.seedRules(ids[0])
	}
	n, err := s.call("mqtt.broker", "search_count", []any{[]any{}}, inactive)
	if err != nil {
		return false, err
	}
	if c, _ := n.(int64); c > 0 {
		return false, nil // the operator's own brokers: not ours to touch
	}
	return true, s.create(host, port)
}

// seeder runs model methods as the superuser.
type seeder struct {
	ctx context.Context
	reg *models.Registry
}

func (s seeder) call(model, method string, args []any, kwargs map[string]any) (any, error) {
	res, err := s.reg.Execute(s.ctx, models.Call{UID: models.Superuser, Model: model, Method: method, Args: args, Kwargs: kwargs})
	if err != nil {
		return nil, fmt.Errorf("demo: %s.%s: %w", model, method, err)
	}
	return res, nil
}

func (s seeder) ids(model string, domain []any, kwargs map[string]any) ([]int64, error) {
	res, err := s.call(model, "search", []any{domain}, kwargs)
	if err != nil {
		return nil, err
	}
	ids, ok := res.([]int64)
	if !ok {
		return nil, fmt.Errorf("demo: %s.search returned %T", model, res)
	}
	return ids, nil
}

// moveBroker points the demo broker at host:port when it is elsewhere,
// and turns device discovery on for a demo database made before it
// existed (its device topics never set).
func (s seeder) moveBroker(id int64, host string, port int) error {
	res, err := s.call("mqtt.broker", "read", []any{[]any{id}, []any{"host", "port", "device_info_topic", "device_request_topic"}}, nil)
	if err != nil {
		return err
	}
	vals := map[string]any{"host": host, "port": strconv.Itoa(port)}
	if recs, ok := res.([]*models.Dict); ok && len(recs) == 1 {
		h, _ := recs[0].Get("host")
		p, _ := recs[0].Get("port")
		if h == host && p == strconv.Itoa(port) {
			delete(vals, "host")
			delete(vals, "port")
		}
		info, _ := recs[0].Get("device_info_topic")
		request, _ := recs[0].Get("device_request_topic")
		if info == false || request == false { // made before discovery or commands existed
			for k, v := range deviceDefaults() {
				vals[k] = v
			}
		}
	}
	if len(vals) == 0 {
		return nil
	}
	_, err = s.call("mqtt.broker", "write", []any{[]any{id}, vals}, nil)
	return err
}

// deviceDefaults turn discovery on with seed 004's topics, which the
// simulated devices use.
func deviceDefaults() map[string]any {
	p := iot.DefaultPatterns()
	return map[string]any{"device_discovery": true, "device_info_topic": p.Info, "device_telemetry_topic": p.Telemetry,
		"device_event_topic": p.Event, "device_action_topic": p.Action, "device_config_topic": p.Config,
		"device_availability_topic": p.Availability, "device_request_topic": p.Request, "device_response_topic": p.Response}
}

// create makes the broker with its subscriptions in one transaction (one
// create with x2many commands), subscribes them, then adds the signals.
func (s seeder) create(host string, port int) error {
	var subs []any
	for _, sub := range Subscriptions {
		if sub.Topic != ESP32Filter {
			subs = append(subs, []any{int64(0), int64(0), map[string]any{"topic": sub.Topic, "qos": sub.QoS}})
		}
	}
	bvals := map[string]any{
		// MQTT 5, which the embedded broker speaks: commands to the lamp
		// carry Response Topic and Correlation Data, and history rows the
		// devices' properties.
		"name": BrokerName, "url_scheme": "mqtt://", "host": host, "port": strconv.Itoa(port), "protocol": "MQTTv5",
		"note":             "Created by --demo: the simulated devices publish to the embedded broker. Delete it to stop the demo data.",
		"subscription_ids": subs,
	}
	for k, v := range deviceDefaults() { // discovery is opt-in: the demo opts in
		bvals[k] = v
	}
	brokerID, err := s.createBroker(bvals)
	if err != nil {
		return err
	}
	if err := s.esp32Broker(brokerID, host, port); err != nil {
		return err
	}
	vals := make([]any, 0, len(signals))
	for _, sig := range signals {
		ids, err := s.ids("mqtt.subscription", []any{[]any{"broker_id", "=", brokerID}, []any{"topic", "=", sig.topic}}, nil)
		if err != nil {
			return err
		}
		if len(ids) != 1 {
			return fmt.Errorf("demo: no subscription for signal topic %s", sig.topic)
		}
		vals = append(vals, map[string]any{"broker_id": brokerID, "subscription_id": ids[0], "payload": sig.payload, "qos": sig.qos})
	}
	if _, err = s.call("mqtt.signal", "create", []any{vals}, nil); err != nil {
		return err
	}
	return s.seedRules(brokerID)
}

// createBroker creates a broker with its subscriptions (x2many commands
// in vals) and subscribes them.
func (s seeder) createBroker(vals map[string]any) (int64, error) {
	res, err := s.call("mqtt.broker", "create", []any{vals}, nil)
	if err != nil {
		return 0, err
	}
	brokerID, ok := res.(int64)
	if !ok {
		return 0, fmt.Errorf("demo: mqtt.broker.create returned %T", res)
	}
	subIDs, err := s.ids("mqtt.subscription", []any{[]any{"broker_id", "=", brokerID}}, nil)
	if err != nil {
		return 0, err
	}
	if _, err := s.call("mqtt.subscription", "subscribe_mqtt", []any{toAny(subIDs)}, nil); err != nil {
		return 0, err
	}
	return brokerID, nil
}

// esp32Broker makes sure the ESP32 broker exists on host:port: moved
// there on a later start, else created with seed 002's device topics and
// the ESP32 subscription. A demo database from before it had that
// subscription on the demo broker (mainID): it moves over, or every ESP32
// message would be stored twice.
func (s seeder) esp32Broker(mainID int64, host string, port int) error {
	inactive := map[string]any{"context": map[string]any{"active_test": false}}
	ids, err := s.ids("mqtt.broker", []any{[]any{"name", "=", ESP32BrokerName}}, inactive)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		return s.moveTo(ids[0], host, port)
	}
	old, err := s.ids("mqtt.subscription", []any{[]any{"broker_id", "=", mainID}, []any{"topic", "=", ESP32Filter}}, inactive)
	if err != nil {
		return err
	}
	if len(old) > 0 {
		if _, err := s.call("mqtt.subscription", "unlink", []any{toAny(old)}, nil); err != nil {
			return err
		}
	}
	var qos int64
	for _, sub := range Subscriptions {
		if sub.Topic == ESP32Filter {
			qos = sub.QoS
		}
	}
	_, err = s.createBroker(map[string]any{
		"name": ESP32BrokerName, "url_scheme": "mqtt://", "host": host, "port": strconv.Itoa(port), "protocol": "MQTTv5",
		"note": "Created by --demo: the simulated ESP32 publishes seed 002's /homecontrol/device/data/<id>, which the demo broker's " +
			"device topics (seed 004's) do not match; this record has seed 002's.",
		"device_discovery": true, "device_telemetry_topic": "/homecontrol/device/data/{id}", "device_config_topic": "/homecontrol/device/config",
		"device_info_topic": "", "device_event_topic": "", "device_action_topic": "", "device_availability_topic": "",
		"device_request_topic": "", "device_response_topic": "",
		"subscription_ids": []any{[]any{int64(0), int64(0), map[string]any{"topic": ESP32Filter, "qos": qos}}},
	})
	return err
}

// moveTo points broker id at host:port when it is elsewhere.
func (s seeder) moveTo(id int64, host string, port int) error {
	res, err := s.call("mqtt.broker", "read", []any{[]any{id}, []any{"host", "port"}}, nil)
	if err != nil {
		return err
	}
	if recs, ok := res.([]*models.Dict); ok && len(recs) == 1 {
		h, _ := recs[0].Get("host")
		p, _ := recs[0].Get("port")
		if h == host && p == strconv.Itoa(port) {
			return nil
		}
	}
	_, err = s.call("mqtt.broker", "write", []any{[]any{id}, map[string]any{"host": host, "port": strconv.Itoa(port)}}, nil)
	return err
}

func toAny(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
