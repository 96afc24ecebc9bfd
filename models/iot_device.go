package models

import "strings"

func init() { declarations = append(declarations, iotDevice) }

// deviceTypes are Odoo's iot.device types, plus sensor and actuator
// (iot.Types, with labels).
var deviceTypes = []Choice{
	{"printer", "Printer"}, {"camera", "Camera"}, {"keyboard", "Keyboard"}, {"scanner", "Barcode Scanner"},
	{"device", "Device"}, {"payment", "Payment Terminal"}, {"scale", "Scale"}, {"display", "Display"},
	{"fiscal_data_module", "Fiscal Data Module"}, {"sensor", "Sensor"}, {"actuator", "Actuator"},
}

// iotDevice is Odoo's iot.device for MQTT devices: filled by the
// listener from the topics of the broker's device patterns (see
// IngestDeviceMessages), driven by its action and push_config methods
// (iot_device_actions.go). Fields the listener maintains are readonly in
// forms; a client may still create devices by hand.
func iotDevice() *Model {
	return &Model{
		Name: "iot.device", Description: "IoT Device", Order: "name, id",
		Fields: []*Field{
			{Name: "name", Type: Char, Required: true},
			{Name: "identifier", Type: Char, Required: true, Index: true,
				Help: "The device's id in its topics (the {id} of the broker's device topics), unique per broker."},
			{Name: "type", Type: Selection, Required: true, Default: constant("device"), Selection: deviceTypes},
			{Name: "manufacturer", Type: Char},
			{Name: "connection", Type: Selection, Required: true, Default: constant("mqtt"), Selection: []Choice{
				{"network", "Network"}, {"direct", "USB"}, {"bluetooth", "Bluetooth"}, {"serial", "Serial"}, {"hdmi", "HDMI"}, {"mqtt", "MQTT"}}},
			{Name: "connected", Type: Boolean, Readonly: true, Default: constant(false),
				Help: "Online by its availability topic or last will; a device publishing is online."},
			{Name: "last_seen", Type: Datetime, Readonly: true, Help: "When the device last published (retained messages replayed by the broker excepted)."},
			{Name: "broker_id", Type: Many2one, Relation: "mqtt.broker", String: "Broker", Required: true, OnDelete: "cascade"},
			{Name: "topic_base", Type: Char, Readonly: true, Help: "The common start of the device's topics."},
			{Name: "last_values", Type: Text, Readonly: true, Help: `JSON object: sensor -> {"value", "unit", "time"}.`},
			{Name: "last_event", Type: Text, Readonly: true, Help: "JSON of the device's last event."},
			{Name: "driver", Type: Char, Readonly: true, Help: "The driver handling the device (the first that supports it)."},
			{Name: "device_model", Type: Char, String: "Model"},
			{Name: "software_version", Type: Char},
			{Name: "actions", Type: Char, Help: "The actions the device obeys, comma separated (from its descriptor)."},
			{Name: "info", Type: Text, Readonly: true, Help: "The device's descriptor as it published it."},
			{Name: "active", Type: Boolean, Default: constant(true)},
		},
		Access:      map[string]string{GroupMQTTUser: "rw", GroupMQTTManager: "rwcu"},
		Constraints: []Constraint{checkDevice},
		Changed: func(env *Env, ids []int64, names []string, deleted bool) {
			if names != nil || deleted { // ingestion created the new ones itself
				env.reg.iot.forgetDevicesAfterCommit(env, ids)
			}
		},
	}
}

// The identifier is unique per broker, in the database too (ingestion
// relies on it): the generic schema knows only one-column unique indexes,
// so this one is added with the internal tables, after the models'.
func init() {
	internalTables = append(internalTables,
		`CREATE UNIQUE INDEX IF NOT EXISTS "iot_device_broker_identifier_uniq" ON "iot_device" ("broker_id", "identifier")`)
}

func checkDevice(env *Env, recs []*Record) error {
	for _, r := range recs {
		id := r.Str("identifier")
		if strings.TrimSpace(id) != id || strings.ContainsAny(id, "/+#\x00") {
			return ValidationErrorf("Identifier: %q must be one topic level: no '/', '+', '#' or surrounding spaces.", id)
		}
		var n int64
		if err := env.DB().Raw(`SELECT COUNT(*) FROM "iot_device" WHERE "broker_id" = ? AND "identifier" = ? AND "id" <> ?`,
			r.Int("broker_id"), id, r.ID).Scan(&n).Error; err != nil {
			return Internal("check device", err)
		}
		if n > 0 {
			return ValidationErrorf("Identifier: the broker already has a device %q.", id)
		}
	}
	return nil
}
