package iotdevice

import (
	"context"
	"errors"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// DeviceTopics are a broker's device discovery settings: whether its
// listener discovers devices, and the topic patterns of its devices.
type DeviceTopics struct {
	Discovery bool
	Patterns  iot.Patterns
}

// HADiscovery reports whether the broker's listener reads Home
// Assistant's MQTT discovery (ha_index.go): the same switch as the
// broker's device discovery. The one place that says so.
func (t DeviceTopics) HADiscovery() bool { return t.Discovery }

// Filters are the subscriptions of device discovery: the device topics'
// filters and, with HADiscovery, the discovery configs' (the discovered
// entities' topics come from Addon.HATopics).
func (t DeviceTopics) Filters() []string {
	if !t.Discovery {
		return nil
	}
	out := t.Patterns.Filters()
	if t.HADiscovery() {
		out = append(out, iot.HAConfigFilters()...)
	}
	return out
}

// IsDevice reports whether a topic is a device topic or a discovery
// config topic (not whether it is a discovered entity's: see HATopics).
func (t DeviceTopics) IsDevice(topic string) bool {
	if !t.Discovery {
		return false
	}
	if _, ok := t.Patterns.Match(topic); ok {
		return true
	}
	_, _, _, _, ok := iot.ParseHATopic(topic)
	return ok && t.HADiscovery()
}

// deviceTopicFields maps each pattern of iot.Patterns to its broker field.
var deviceTopicFields = []struct {
	field, pattern, label string
	get                   func(p *iot.Patterns) *string
}{
	{"device_info_topic", "info", "Device info topic", func(p *iot.Patterns) *string { return &p.Info }},
	{"device_telemetry_topic", "telemetry", "Device telemetry topic", func(p *iot.Patterns) *string { return &p.Telemetry }},
	{"device_event_topic", "event", "Device event topic", func(p *iot.Patterns) *string { return &p.Event }},
	{"device_action_topic", "action", "Device action topic", func(p *iot.Patterns) *string { return &p.Action }},
	{"device_config_topic", "config", "Device config topic", func(p *iot.Patterns) *string { return &p.Config }},
	{"device_availability_topic", "availability", "Device availability topic", func(p *iot.Patterns) *string { return &p.Availability }},
	{"device_request_topic", "request", "Device request topic", func(p *iot.Patterns) *string { return &p.Request }},
	{"device_response_topic", "response", "Device response topic", func(p *iot.Patterns) *string { return &p.Response }},
}

// commandTopicHelp is the help of the request and response topics.
const commandTopicHelp = "Commands (iot.device.call): the request goes out on the request topic, the device answers on the response topic. " +
	"{id} is the device identifier (required), {request_id} the command's request id, each a whole topic level. " +
	"On MQTT 5 the request also carries the response topic and the request id as Correlation Data; on MQTT 3.1/3.1.1 " +
	"the request id in the topics is the only correlation, so both need {request_id}. Responses are received through " +
	"device discovery: it must be on. Empty: no commands."

const deviceTopicHelp = "{id} stands for the device identifier, {sensor} for a sensor (telemetry), {action} for an action; " +
	"each a whole topic level. Without {id} the topic is shared and the device id is read from the JSON payload " +
	"(device_id, deviceId, id or client_id). Empty: not used."

// brokerExtension adds device discovery to mqtt.broker: the fields (group
// "Devices" of the form: where its devices publish, with seed 004's
// topics as defaults), their check, and forgetting a changed broker's
// cached settings. Discovery is opt-in: a new broker has it off (it
// would otherwise subscribe device filters nobody asked for), the demo
// broker turns it on, and brokers that existed keep the value they have
// (those made before the field existed are NULL: off).
func (a *Addon) brokerExtension() *models.Extension {
	def := iot.DefaultPatterns()
	fields := []*models.Field{{Name: "device_discovery", Type: models.Boolean, String: "Discover devices", Default: models.Constant(false),
		Help: discoveryHelp(def)},
		{Name: "device_discovery_filters", Type: models.Char, String: "Discovery subscribes", NotStored: true, Compute: discoveryFilters,
			Help: "The filters device discovery subscribes on this broker with the device topics below (none while it is off). " +
				"A filter one of the broker's subscriptions already covers is not subscribed twice."}}
	for _, t := range deviceTopicFields {
		help := deviceTopicHelp
		if t.pattern == "request" || t.pattern == "response" {
			help = commandTopicHelp
		}
		fields = append(fields, &models.Field{Name: t.field, Type: models.Char, String: t.label, Default: models.Constant(*t.get(&def)), Help: help})
	}
	return &models.Extension{
		Model:       "mqtt.broker",
		Fields:      fields,
		Constraints: []models.Constraint{checkBrokerDevices},
		Changed: func(env *models.Env, ids []int64, names []string, deleted bool) {
			if mqtt.ConnectionChanged(names, deleted) {
				a.cache.forgetBrokersAfterCommit(env, ids)
			}
		},
	}
}

// brokerFields are the broker fields device discovery reads.
func brokerFields() []string {
	out := []string{"device_discovery"}
	for _, t := range deviceTopicFields {
		out = append(out, t.field)
	}
	return out
}

// BrokerTopics returns the device discovery settings of a broker; ok is
// false for a broker that does not exist. The listener asks it when a
// broker's daemon starts.
func (a *Addon) BrokerTopics(ctx context.Context, brokerID int64) (DeviceTopics, bool, error) {
	var out DeviceTopics
	found := false
	err := a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		recs, err := env.Sudo().Load(a.reg.Model("mqtt.broker"), []int64{brokerID}, brokerFields()...)
		if len(recs) == 1 {
			out, found = deviceTopics(recs[0]), true
		}
		return err
	})
	return out, found, err
}

// devicePatterns reads the patterns of a loaded broker record.
func devicePatterns(r *models.Record) iot.Patterns {
	var p iot.Patterns
	for _, t := range deviceTopicFields {
		*t.get(&p) = r.Str(t.field)
	}
	return p
}

// deviceTopics is the discovery settings of a loaded broker record.
func deviceTopics(r *models.Record) DeviceTopics {
	return DeviceTopics{Discovery: DiscoveryOn(r), Patterns: devicePatterns(r)}
}

// DiscoveryOn is the one switch of device discovery on a loaded broker
// record (field device_discovery, opt-in): every convention that
// subscribes device topics by itself asks it, so one field says whether
// a broker gets subscriptions nobody created.
func DiscoveryOn(r *models.Record) bool { return r.Bool("device_discovery") }

// discoveryHelp is device_discovery's help: what turning it on
// subscribes, with the default device topics.
func discoveryHelp(def iot.Patterns) string {
	return "Off by default. On: the listener also subscribes the device topics below (with the default topics: " +
		strings.Join(DeviceTopics{Discovery: true, Patterns: def}.Filters(), ", ") + ") and keeps the Devices list up to date, " +
		"Home Assistant discovery configs included. " +
		"Device messages go to the message history only when a subscription of the broker matches them."
}

// discoveryFilters computes device_discovery_filters: the filters
// discovery subscribes with the record's device topics, or "" while it is
// off. (Those a subscription of the broker covers are skipped by the
// listener; this lists them all.)
func discoveryFilters(_ *models.Env, r *models.Record) (any, error) {
	return strings.Join(deviceTopics(r).Filters(), ", "), nil
}

// checkBrokerDevices validates the device topics, naming the field.
func checkBrokerDevices(_ *models.Env, recs []*models.Record) error {
	for _, r := range recs {
		err := devicePatterns(r).Validate()
		var pe *iot.PatternError
		if !errors.As(err, &pe) {
			continue
		}
		for _, t := range deviceTopicFields {
			if t.pattern == pe.Field {
				return models.ValidationErrorf("%s: %s: %s.", t.label, py.Repr(pe.Template), pe.Reason)
			}
		}
		return models.ValidationErrorf("Device topics: %v", err)
	}
	return nil
}
