package iot

import (
	"fmt"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// Patterns are the topic templates of one broker's devices. A template is
// a topic whose levels may be placeholders: {id} (the device identifier),
// {sensor} (telemetry only), {action} (actions only) and {request_id}
// (command requests and responses only), each a whole level, at most
// once. An empty template turns that kind of message off.
//
// An inbound template without {id} is a topic shared by several devices:
// the device id is then read from the JSON payload (device_id, deviceId,
// id or client_id). A telemetry template without {sensor} carries a JSON
// object of readings, each key a sensor, as the ESP32 firmware of seed 002
// publishes.
type Patterns struct {
	Info         string // retained descriptor
	Telemetry    string // sensor readings
	Event        string // state changes, alerts (retained)
	Action       string // commands to the device (outbound)
	Config       string // retained configuration the device reads (outbound)
	Availability string // online/offline, the device's last will
	// Request and Response carry commands (iot.command): a request goes
	// out on Request, the device answers on Response. Both need {id}; the
	// request id in them is the correlation on MQTT 3.1/3.1.1, where a
	// PUBLISH has no Correlation Data.
	Request  string // command requests to the device (outbound)
	Response string // the device's answers to them
}

// The placeholders of a template.
const (
	PlaceholderID        = "{id}"
	PlaceholderSensor    = "{sensor}"
	PlaceholderAction    = "{action}"
	PlaceholderRequestID = "{request_id}"
)

// DefaultPatterns are seed 004's smart object topics.
func DefaultPatterns() Patterns {
	return Patterns{
		Info:         "device/{id}/info",
		Telemetry:    "device/{id}/telemetry/{sensor}",
		Event:        "device/{id}/event",
		Action:       "device/{id}/action/{action}",
		Config:       "device/{id}/config",
		Availability: "device/{id}/availability",
		Request:      "device/{id}/request/{request_id}",
		Response:     "device/{id}/response/{request_id}",
	}
}

// Kind says what an inbound device message is.
type Kind uint8

// The kinds of inbound messages, in the order Match tries their templates.
const (
	Info Kind = iota + 1
	Event
	Availability
	Response
	Telemetry
)

var kindNames = [...]string{Info: "info", Event: "event", Availability: "availability", Response: "response", Telemetry: "telemetry"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Match is what a topic says about a device message.
type Match struct {
	Kind     Kind
	DeviceID string // "" when the template has no {id}: see PayloadDeviceID
	Sensor   string // telemetry with {sensor}
	// RequestID is a response's {request_id} ("" when its template has
	// none: the correlation is then the MQTT 5 Correlation Data alone).
	RequestID string
	// Base is the topic up to and including the {id} level
	// ("device/thermo-1"), or the whole topic without {id}.
	Base string
}

// PatternError says which template is wrong and why.
type PatternError struct {
	Field    string // "info", "telemetry", "event", "action", "config", "availability", "request", "response"
	Template string
	Reason   string
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("%s topic %q: %s", e.Field, e.Template, e.Reason)
}

// field is one template with the placeholders it may use.
type field struct {
	name     string
	template string
	allowed  []string
	inbound  bool
	needID   bool // the device must be told by its topic, not its payload
}

func (p Patterns) fields() []field {
	return []field{
		{"info", p.Info, []string{PlaceholderID}, true, false},
		{"telemetry", p.Telemetry, []string{PlaceholderID, PlaceholderSensor}, true, false},
		{"event", p.Event, []string{PlaceholderID}, true, false},
		{"availability", p.Availability, []string{PlaceholderID}, true, false},
		{"response", p.Response, []string{PlaceholderID, PlaceholderRequestID}, true, true},
		{"action", p.Action, []string{PlaceholderID, PlaceholderAction}, false, false},
		{"config", p.Config, []string{PlaceholderID}, false, false},
		{"request", p.Request, []string{PlaceholderID, PlaceholderRequestID}, false, true},
	}
}

// Validate checks every template and returns a *PatternError for the
// first wrong one: the MQTT rules of a topic name (topic.ValidateName: no
// wildcards, no NUL, at most 65535 bytes, no shared subscription),
// placeholders whole levels and allowed for that template, at least one
// fixed level, and no two inbound templates alike (a topic would be two
// kinds at once).
func (p Patterns) Validate() error {
	seen := map[string]string{}
	for _, f := range p.fields() {
		if f.template == "" {
			continue
		}
		if reason := checkTemplate(f.template, f.allowed); reason != "" {
			return &PatternError{Field: f.name, Template: f.template, Reason: reason}
		}
		if f.needID && !hasLevel(f.template, PlaceholderID) {
			return &PatternError{Field: f.name, Template: f.template, Reason: "needs {id}: a command's device is told by its topic"}
		}
		if !f.inbound {
			continue
		}
		filter := toFilter(f.template)
		if other, dup := seen[filter]; dup {
			return &PatternError{Field: f.name, Template: f.template, Reason: "same topics as the " + other + " topic"}
		}
		seen[filter] = f.name
	}
	return nil
}

func checkTemplate(t string, allowed []string) string {
	if strings.ContainsAny(t, "+#") {
		return "wildcards (+, #) are not allowed; use {id}, {sensor}, {action} or {request_id} for a level that varies"
	}
	if topic.ValidateName(t) != nil {
		return "not a valid MQTT topic"
	}
	used := map[string]bool{}
	fixed := false
	for _, level := range strings.Split(t, "/") {
		if !strings.ContainsAny(level, "{}") {
			fixed = fixed || level != ""
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || level == a
		}
		if !ok {
			return fmt.Sprintf("%q is not a placeholder of this topic (allowed: %s, each a whole level)", level, strings.Join(allowed, ", "))
		}
		if used[level] {
			return level + " appears twice"
		}
		used[level] = true
	}
	if !fixed {
		return "needs at least one fixed level, or it would take every topic of that depth"
	}
	return ""
}

// hasLevel reports whether one level of t is exactly level.
func hasLevel(t, level string) bool {
	for _, l := range strings.Split(t, "/") {
		if l == level {
			return true
		}
	}
	return false
}

// toFilter turns a template into the MQTT filter of its topics.
func toFilter(t string) string {
	if !strings.Contains(t, "{") {
		return t
	}
	levels := strings.Split(t, "/")
	for i, l := range levels {
		if strings.HasPrefix(l, "{") {
			levels[i] = "+"
		}
	}
	return strings.Join(levels, "/")
}

// Filters are the MQTT subscriptions that receive every inbound device
// message (info, telemetry, event, availability, command responses), each
// placeholder a "+".
func (p Patterns) Filters() []string {
	var out []string
	for _, f := range p.fields() {
		if !f.inbound || f.template == "" {
			continue
		}
		filter := toFilter(f.template)
		dup := false
		for _, x := range out {
			dup = dup || x == filter
		}
		if !dup {
			out = append(out, filter)
		}
	}
	return out
}

// Match classifies a topic by the inbound templates, tried in the order
// info, event, availability, response, telemetry (the one most likely to
// be generic last). Patterns are assumed valid.
func (p Patterns) Match(topic string) (Match, bool) {
	for _, c := range [...]struct {
		kind     Kind
		template string
	}{{Info, p.Info}, {Event, p.Event}, {Availability, p.Availability}, {Response, p.Response}, {Telemetry, p.Telemetry}} {
		if c.template == "" {
			continue
		}
		if m, ok := matchTemplate(c.template, topic); ok {
			m.Kind = c.kind
			return m, true
		}
	}
	return Match{}, false
}

// matchTemplate matches topic level by level, without allocating.
// Placeholders match one non-empty level.
func matchTemplate(t, topic string) (Match, bool) {
	m := Match{Base: topic}
	orig, consumed := topic, 0
	for {
		tl, trest, tmore := strings.Cut(t, "/")
		ol, orest, omore := strings.Cut(topic, "/")
		switch tl {
		case PlaceholderID:
			if ol == "" {
				return Match{}, false
			}
			m.DeviceID = ol
			m.Base = orig[:consumed+len(ol)]
		case PlaceholderSensor:
			if ol == "" {
				return Match{}, false
			}
			m.Sensor = ol
		case PlaceholderRequestID:
			if ol == "" {
				return Match{}, false
			}
			m.RequestID = ol
		default:
			if tl != ol {
				return Match{}, false
			}
		}
		if tmore != omore {
			return Match{}, false
		}
		if !tmore {
			return m, true
		}
		consumed += len(ol) + 1
		t, topic = trest, orest
	}
}

// fill substitutes placeholders; each value must be one valid level.
func fill(field, template string, values map[string]string) (string, error) {
	if template == "" {
		return "", &PatternError{Field: field, Template: template, Reason: "no " + field + " topic is configured for this broker"}
	}
	levels := strings.Split(template, "/")
	for i, l := range levels {
		v, ok := values[l]
		if !ok {
			continue
		}
		if v == "" || strings.ContainsAny(v, "/+#\x00") {
			return "", &PatternError{Field: field, Template: template, Reason: fmt.Sprintf("%s cannot stand for %s (one topic level, no wildcards)", py.Repr(v), l)}
		}
		levels[i] = v
	}
	return strings.Join(levels, "/"), nil
}

// ActionTopic is the topic of action on device id. Without {action} in
// the template every action goes to the same topic; without {id} the
// topic is shared by the broker's devices.
func (p Patterns) ActionTopic(id, action string) (string, error) {
	vals := map[string]string{PlaceholderID: id}
	if strings.Contains(p.Action, PlaceholderAction) {
		vals[PlaceholderAction] = action
	}
	return fill("action", p.Action, vals)
}

// ConfigTopic is the topic device id reads its configuration from.
func (p Patterns) ConfigTopic(id string) (string, error) {
	return fill("config", p.Config, map[string]string{PlaceholderID: id})
}

// AvailabilityTopic is where device id says it is online, and where its
// last will says it is not.
func (p Patterns) AvailabilityTopic(id string) (string, error) {
	return fill("availability", p.Availability, map[string]string{PlaceholderID: id})
}

// RequestTopic is where command requestID goes to device id.
func (p Patterns) RequestTopic(id, requestID string) (string, error) {
	return fill("request", p.Request, map[string]string{PlaceholderID: id, PlaceholderRequestID: requestID})
}

// ResponseTopic is where device id answers command requestID.
func (p Patterns) ResponseTopic(id, requestID string) (string, error) {
	return fill("response", p.Response, map[string]string{PlaceholderID: id, PlaceholderRequestID: requestID})
}

// RequestIDInTopics reports whether both command templates carry
// {request_id}, which a broker without Correlation Data (MQTT 3.1/3.1.1)
// needs to pair a response with its request.
func (p Patterns) RequestIDInTopics() bool {
	return hasLevel(p.Request, PlaceholderRequestID) && hasLevel(p.Response, PlaceholderRequestID)
}
