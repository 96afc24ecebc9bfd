package iot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
)

// Home Assistant's MQTT discovery: a device (Tasmota, Zigbee2MQTT,
// ESPHome, ...) announces each of its entities with a retained JSON
// config on homeassistant/<component>/[<node_id>/]<object_id>/config
// naming its state, command and availability topics; an empty retained
// config removes the entity. ParseHAConfig reads one config into an
// HAEntity and the HADevice it belongs to.

// HAPrefix is Home Assistant's default discovery prefix.
const HAPrefix = "homeassistant"

// MaxHAConfig bounds a discovery config payload: real ones are well under
// 2 KiB (Zigbee2MQTT's lights with their colour modes are the largest).
const MaxHAConfig = 16 << 10

// HAConfigFilters are the subscriptions that receive every discovery
// config, with and without a node id.
func HAConfigFilters() []string {
	return []string{HAPrefix + "/+/+/config", HAPrefix + "/+/+/+/config"}
}

// HAComponents are the components read; others are ignored (counted, not
// an error: a device has lights with colours, covers, climates ...).
var HAComponents = []string{"sensor", "binary_sensor", "switch", "light", "number", "button"}

// HAEntity is one discovered entity, as stored on its device (the JSON
// tags are the stored form).
type HAEntity struct {
	Key       string `json:"key"` // <component>/[<node_id>/]<object_id>: the discovery topic's middle
	Component string `json:"component"`
	ObjectID  string `json:"object_id"`
	UniqueID  string `json:"unique_id,omitempty"`
	Name      string `json:"name,omitempty"`
	// Sensor is the key of its reading in the device's last_values.
	Sensor       string `json:"sensor"`
	StateTopic   string `json:"state_topic,omitempty"`
	CommandTopic string `json:"command_topic,omitempty"`
	// ValuePath is the JSON path of value_template ("ENERGY.Power" for
	// {{ value_json.ENERGY.Power }}); "" is the whole payload.
	// Template is value_template when it is of no form read (ValuePath
	// is then unusable and the payload taken whole).
	ValuePath    string           `json:"value_path,omitempty"`
	Template     string           `json:"template,omitempty"`
	Unit         string           `json:"unit,omitempty"`
	DeviceClass  string           `json:"device_class,omitempty"`
	PayloadOn    string           `json:"payload_on,omitempty"`
	PayloadOff   string           `json:"payload_off,omitempty"`
	StateOn      string           `json:"state_on,omitempty"`
	StateOff     string           `json:"state_off,omitempty"`
	PayloadPress string           `json:"payload_press,omitempty"`
	JSONSchema   bool             `json:"json_schema,omitempty"` // light schema json: {"state": "ON"} both ways
	Availability []HAAvailability `json:"availability,omitempty"`
	Min          *float64         `json:"min,omitempty"`
	Max          *float64         `json:"max,omitempty"`
}

// HAAvailability is one availability topic of an entity.
type HAAvailability struct {
	Topic        string `json:"topic"`
	Available    string `json:"available"`
	NotAvailable string `json:"not_available"`
	ValuePath    string `json:"value_path,omitempty"`
}

// HADevice is the device block of a config.
type HADevice struct {
	Identifier   string // the first of identifiers (or connections), made one topic level
	Name         string
	Manufacturer string
	Model        string
	Version      string
}

// HAConfigError is a config that cannot be used, and why.
type HAConfigError struct{ Reason string }

func (e *HAConfigError) Error() string { return "Home Assistant discovery config: " + e.Reason }

func haErr(format string, args ...any) error {
	return &HAConfigError{Reason: fmt.Sprintf(format, args...)}
}

// ErrHAComponent is returned for a component not in HAComponents.
var ErrHAComponent = errors.New("Home Assistant discovery: component not read")

// ParseHATopic splits a discovery config topic; key is
// <component>/[<node_id>/]<object_id>.
func ParseHATopic(t string) (component, node, object, key string, ok bool) {
	rest, found := strings.CutPrefix(t, HAPrefix+"/")
	if !found {
		return "", "", "", "", false
	}
	rest, found = strings.CutSuffix(rest, "/config")
	if !found {
		return "", "", "", "", false
	}
	levels := strings.Split(rest, "/")
	for _, l := range levels {
		if l == "" {
			return "", "", "", "", false
		}
	}
	switch len(levels) {
	case 2:
		return levels[0], "", levels[1], rest, true
	case 3:
		return levels[0], levels[1], levels[2], rest, true
	}
	return "", "", "", "", false
}

// haAbbrev are Home Assistant's abbreviations of the keys read (its
// abbreviations.py); a key may also be spelled out.
var haAbbrev = map[string]string{
	"avty": "availability", "avty_t": "availability_topic", "avty_tpl": "availability_template", "avty_mode": "availability_mode",
	"cmd_t": "command_topic", "dev": "device", "dev_cla": "device_class", "stat_t": "state_topic", "stat_on": "state_on",
	"stat_off": "state_off", "uniq_id": "unique_id", "unit_of_meas": "unit_of_measurement", "val_tpl": "value_template",
	"pl_on": "payload_on", "pl_off": "payload_off", "pl_avail": "payload_available", "pl_not_avail": "payload_not_available",
	"pl_prs": "payload_press", "obj_id": "object_id", "t": "topic", "json_attr_t": "json_attributes_topic",
	"stat_val_tpl": "state_value_template", "cmd_tpl": "command_template",
	// device block
	"ids": "identifiers", "cns": "connections", "mf": "manufacturer", "mdl": "model", "sw": "sw_version", "hw": "hw_version",
}

// expand spells out an object's abbreviated keys.
func expand(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if long, ok := haAbbrev[k]; ok {
			k = long
		}
		out[k] = v
	}
	return out
}

// haString is a config value as Home Assistant's cv.string makes it:
// text as is, numbers in decimal, booleans "True"/"False" (what its
// templates render true and false as, so Zigbee2MQTT's
// "payload_on": true matches {{ value_json.contact }}).
func haString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	}
	return "", false
}

// ParseHAConfig reads the config of discovery topic t. An empty payload
// is not a config (the caller removes the entity); a component not read
// is ErrHAComponent; anything unusable an *HAConfigError.
func ParseHAConfig(t string, payload []byte) (HAEntity, HADevice, error) {
	component, node, object, key, ok := ParseHATopic(t)
	if !ok {
		return HAEntity{}, HADevice{}, haErr("%q is not a discovery topic", t)
	}
	known := false
	for _, c := range HAComponents {
		known = known || c == component
	}
	if !known {
		return HAEntity{}, HADevice{}, ErrHAComponent
	}
	if len(payload) > MaxHAConfig {
		return HAEntity{}, HADevice{}, haErr("%d bytes, more than %d", len(payload), MaxHAConfig)
	}
	var raw map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(payload), &raw); err != nil || raw == nil {
		return HAEntity{}, HADevice{}, haErr("not a JSON object")
	}
	c := expand(raw)
	base, _ := c["~"].(string)
	topicOf := func(k string) (string, error) {
		s, _ := c[k].(string)
		if s == "" {
			return "", nil
		}
		s = expandBase(s, base)
		if topic.ValidateName(s) != nil || strings.ContainsAny(s, "+#") {
			return "", haErr("%s %q is not a topic", k, s)
		}
		return s, nil
	}
	text := func(k string) string { s, _ := haString(c[k]); return s }
	e := HAEntity{Key: key, Component: component, ObjectID: object, UniqueID: text("unique_id"), Name: text("name"),
		Unit: text("unit_of_measurement"), DeviceClass: text("device_class"), PayloadPress: text("payload_press")}
	var err error
	if e.StateTopic, err = topicOf("state_topic"); err != nil {
		return HAEntity{}, HADevice{}, err
	}
	if e.CommandTopic, err = topicOf("command_topic"); err != nil {
		return HAEntity{}, HADevice{}, err
	}
	if tpl := text("value_template"); tpl != "" {
		if path, ok := TemplatePath(tpl); ok {
			e.ValuePath = path
		} else {
			e.Template = tpl
		}
	}
	if err := e.readKind(c, text); err != nil {
		return HAEntity{}, HADevice{}, err
	}
	if e.Availability, err = haAvailabilities(c, base); err != nil {
		return HAEntity{}, HADevice{}, err
	}
	dev := haDevice(c)
	if dev.Identifier == "" {
		// A standalone entity: its node is its device, else itself.
		dev.Identifier = levelID(node)
		if dev.Identifier == "" {
			dev.Identifier = levelID(firstNonEmpty(e.UniqueID, object))
		}
	}
	if dev.Identifier == "" {
		return HAEntity{}, HADevice{}, haErr("no device identifier")
	}
	e.Sensor = SensorName(e, dev.Name)
	return e, dev, nil
}

// readKind reads what the component needs: a state topic for sensors, a
// command topic for what is commanded, the on/off payloads.
func (e *HAEntity) readKind(c map[string]any, text func(string) string) error {
	switch e.Component {
	case "sensor", "binary_sensor":
		if e.StateTopic == "" {
			return haErr("a %s needs a state_topic", e.Component)
		}
	case "switch", "light", "number", "button":
		if e.CommandTopic == "" {
			return haErr("a %s needs a command_topic", e.Component)
		}
	}
	if e.Component == "light" && text("schema") == "json" {
		e.JSONSchema = true
	}
	switch e.Component {
	case "binary_sensor", "switch", "light":
		e.PayloadOn, e.PayloadOff = orDefault(c, "payload_on", "ON"), orDefault(c, "payload_off", "OFF")
		e.StateOn, e.StateOff = text("state_on"), text("state_off")
	case "button":
		e.PayloadPress = orDefault(c, "payload_press", "PRESS")
	case "number":
		for k, dst := range map[string]**float64{"min": &e.Min, "max": &e.Max} {
			if f, ok := c[k].(float64); ok {
				*dst = &f
			}
		}
	}
	if e.Component == "light" && e.JSONSchema && e.ValuePath == "" && e.Template == "" {
		e.ValuePath = "state" // the json schema's state is {"state": "ON", ...}
	}
	if v := text("state_value_template"); v != "" && e.ValuePath == "" && e.Template == "" {
		if path, ok := TemplatePath(v); ok {
			e.ValuePath = path
		}
	}
	return nil
}

func orDefault(c map[string]any, k, def string) string {
	if s, ok := haString(c[k]); ok {
		return s
	}
	return def
}

// haAvailabilities reads availability (a list) or availability_topic, each
// with Home Assistant's default payloads online and offline.
func haAvailabilities(c map[string]any, base string) ([]HAAvailability, error) {
	defAvail, defNot := orDefault(c, "payload_available", PayloadOnline), orDefault(c, "payload_not_available", PayloadOffline)
	var out []HAAvailability
	add := func(t string, avail, not string, tpl string) error {
		t = expandBase(t, base)
		if topic.ValidateName(t) != nil || strings.ContainsAny(t, "+#") {
			return haErr("availability topic %q is not a topic", t)
		}
		a := HAAvailability{Topic: t, Available: avail, NotAvailable: not}
		if tpl != "" {
			a.ValuePath, _ = TemplatePath(tpl)
		}
		out = append(out, a)
		return nil
	}
	if t, ok := c["availability_topic"].(string); ok && t != "" {
		tpl, _ := c["availability_template"].(string)
		if err := add(t, defAvail, defNot, tpl); err != nil {
			return nil, err
		}
	}
	list, _ := c["availability"].([]any)
	for _, x := range list {
		obj, _ := x.(map[string]any)
		if obj == nil {
			continue
		}
		a := expand(obj)
		t, _ := a["topic"].(string)
		if t == "" {
			continue
		}
		tpl, _ := a["value_template"].(string)
		if err := add(t, orDefault(a, "payload_available", PayloadOnline), orDefault(a, "payload_not_available", PayloadOffline), tpl); err != nil {
			return nil, err
		}
		if len(out) >= 8 {
			break
		}
	}
	return out, nil
}

// expandBase is Home Assistant's "~": a topic starting with it has the
// base in front, one ending with it at its end.
func expandBase(t, base string) string {
	if base == "" {
		return t
	}
	if r, ok := strings.CutPrefix(t, "~"); ok {
		return base + r
	}
	if r, ok := strings.CutSuffix(t, "~"); ok {
		return r + base
	}
	return t
}

// haDevice reads the device block.
func haDevice(c map[string]any) HADevice {
	obj, _ := c["device"].(map[string]any)
	if obj == nil {
		return HADevice{}
	}
	d := expand(obj)
	text := func(k string) string { s, _ := haString(d[k]); return s }
	out := HADevice{Name: text("name"), Manufacturer: text("manufacturer"), Model: text("model"), Version: text("sw_version")}
	switch ids := d["identifiers"].(type) {
	case string:
		out.Identifier = levelID(ids)
	case []any:
		for _, x := range ids {
			if s, ok := haString(x); ok && levelID(s) != "" {
				out.Identifier = levelID(s)
				break
			}
		}
	}
	if out.Identifier == "" { // connections: [["mac", "aa:bb:..."]]
		if cns, ok := d["connections"].([]any); ok && len(cns) > 0 {
			if pair, ok := cns[0].([]any); ok && len(pair) == 2 {
				s, _ := pair[1].(string)
				out.Identifier = levelID(s)
			}
		}
	}
	return out
}

// levelID makes s one topic level an iot.device identifier may be: '/',
// '+', '#' and NUL become '_', surrounding spaces go; at most 128 bytes.
func levelID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '+' || r == '#' || r == 0 {
			return '_'
		}
		return r
	}, s)
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.ToValidUTF8(s, "_")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// SensorName is the entity's key in last_values: its name without the
// device's name in front ("Kitchen Temperature" of device "Kitchen" is
// "Temperature"), else its object id. A config whose device block has
// no name is named again with the device's name once known.
func SensorName(e HAEntity, device string) string {
	n := strings.TrimSpace(e.Name)
	if device != "" {
		if r, ok := strings.CutPrefix(n, device); ok && strings.TrimSpace(r) != "" {
			n = strings.TrimSpace(r)
		}
	}
	if n == "" || n == device {
		n = e.ObjectID
	}
	if len(n) > 64 {
		n = n[:64]
	}
	return strings.ToValidUTF8(n, "_")
}

// TemplatePath reads the value templates of the forms devices send:
// {{ value }}, {{ value_json }}, {{ value_json.a.b }},
// {{ value_json['a']["b"] }}, {{ value_json.a[0] }}, each optionally
// followed by filters (| float, | int, | round(1), | default(0)), which
// change nothing for a reading. The path is a jsonpath ("a.b", "a[0]",
// "" for the whole payload); ok is false for any other template.
func TemplatePath(tpl string) (string, bool) {
	s := strings.TrimSpace(tpl)
	inner, ok := strings.CutPrefix(s, "{{")
	if !ok {
		return "", false
	}
	if inner, ok = strings.CutSuffix(inner, "}}"); !ok || strings.Contains(inner, "{{") {
		return "", false
	}
	expr, _, _ := strings.Cut(inner, "|")
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "value" || expr == "value_json":
		return "", true
	case !strings.HasPrefix(expr, "value_json"):
		return "", false
	}
	rest := expr[len("value_json"):]
	var b strings.Builder
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			k := rest[1 : 1+end]
			if !identifier(k) {
				return "", false
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
			rest = rest[1+end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return "", false
			}
			inside := strings.TrimSpace(rest[1:end])
			rest = rest[end+1:]
			if n, err := strconv.Atoi(inside); err == nil && n >= 0 {
				fmt.Fprintf(&b, "[%d]", n)
				continue
			}
			if len(inside) < 2 || (inside[0] != '\'' && inside[0] != '"') || inside[len(inside)-1] != inside[0] {
				return "", false
			}
			k := inside[1 : len(inside)-1]
			if k == "" || strings.ContainsAny(k, ".[]'\"") {
				return "", false // a key the jsonpath cannot spell
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		default:
			return "", false
		}
	}
	return b.String(), true
}

func identifier(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
