package iotdevice

import (
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// deviceTypes are Odoo's iot.device types, plus sensor and actuator
// (iot.Types, with labels).
var deviceTypes = models.Choices(
	"printer", "Printer", "camera", "Camera", "keyboard", "Keyboard", "scanner", "Barcode Scanner",
	"device", "Device", "payment", "Payment Terminal", "scale", "Scale", "display", "Display",
	"fiscal_data_module", "Fiscal Data Module", "sensor", "Sensor", "actuator", "Actuator",
)

// device is Odoo's iot.device for MQTT devices: filled by the listener
// from the topics of the broker's device patterns (see
// IngestDeviceMessages), driven by its action and push_config methods
// (actions.go). Fields the listener maintains are readonly in forms; a
// client may still create devices by hand.
func (a *Addon) device() *models.Model {
	return &models.Model{
		Name: "iot.device", Description: "IoT Device", Order: "name, id",
		Fields: []*models.Field{
			{Name: "name", Type: models.Char, Required: true},
			{Name: "identifier", Type: models.Char, Required: true, Index: true,
				Help: "The device's id in its topics (the {id} of the broker's device topics), unique per broker."},
			{Name: "type", Type: models.Selection, Required: true, Default: models.Constant("device"), Selection: deviceTypes},
			{Name: "manufacturer", Type: models.Char},
			{Name: "connection", Type: models.Selection, Required: true, Default: models.Constant("mqtt"), Selection: models.Choices(
				"network", "Network", "direct", "USB", "bluetooth", "Bluetooth", "serial", "Serial", "hdmi", "HDMI", "mqtt", "MQTT")},
			{Name: "connected", Type: models.Boolean, Readonly: true, Default: models.Constant(false),
				Help: "Online by its availability topic or last will; a device publishing is online."},
			{Name: "last_seen", Type: models.Datetime, Readonly: true, Help: "When the device last published (retained messages replayed by the broker excepted)."},
			{Name: "broker_id", Type: models.Many2one, Relation: "mqtt.broker", String: "Broker", Required: true, OnDelete: "cascade"},
			{Name: "topic_base", Type: models.Char, Readonly: true, Help: "The common start of the device's topics."},
			{Name: "last_values", Type: models.Text, Readonly: true, Help: `JSON object: sensor -> {"value", "unit", "time"}.`},
			{Name: "last_event", Type: models.Text, Readonly: true, Help: "JSON of the device's last event."},
			{Name: "driver", Type: models.Char, Readonly: true, Help: "The driver handling the device (the first that supports it)."},
			{Name: "device_model", Type: models.Char, String: "Model"},
			{Name: "software_version", Type: models.Char},
			{Name: "actions", Type: models.Char, Help: "The actions the device obeys, comma separated (from its descriptor)."},
			{Name: "info", Type: models.Text, Readonly: true, Help: "The device's descriptor as it published it."},
			{Name: "ha_config", Type: models.Text, Readonly: true, String: "Home Assistant entities",
				Help: "JSON: the entities Home Assistant's MQTT discovery announced for the device, by discovery topic (homeassistant/<component>/[<node>/]<object>)."},
			{Name: "active", Type: models.Boolean, Default: models.Constant(true)},
		},
		// The identifier is unique per broker, in the database too:
		// ingestion relies on it. (The index keeps its historic name.)
		Indexes:     []models.Index{{Name: "iot_device_broker_identifier_uniq", Fields: []string{"broker_id", "identifier"}, Unique: true}},
		Access:      map[string]string{mqtt.GroupUser: "rw", mqtt.GroupManager: "rwcu"},
		Constraints: []models.Constraint{checkDevice},
		Channels:    []string{ChannelDevices},
		Changed: func(env *models.Env, ids []int64, names []string, deleted bool) {
			if names != nil || deleted { // ingestion created the new ones itself
				a.cache.forgetDevicesAfterCommit(env, ids)
			}
		},
		Methods: map[string]*models.Method{
			"action":            {Kind: models.RecordLevel, OwnTransactions: true, Params: []models.Param{{Name: "data", Optional: true}}, Fn: a.deviceAction},
			"push_config":       {Kind: models.RecordLevel, OwnTransactions: true, Params: []models.Param{{Name: "config"}}, Fn: a.devicePushConfig},
			"call":              {Kind: models.RecordLevel, OwnTransactions: true, Params: commandParams, Fn: a.deviceCall},
			"call_async":        {Kind: models.RecordLevel, OwnTransactions: true, Params: commandParams, Fn: a.deviceCallAsync},
			"get_sensor_series": {Kind: models.RecordLevel, Params: seriesParams, Fn: a.deviceSensorSeries}, // series.go
		},
	}
}

func checkDevice(env *models.Env, recs []*models.Record) error {
	for _, r := range recs {
		id := r.Str("identifier")
		if strings.TrimSpace(id) != id || strings.ContainsAny(id, "/+#\x00") {
			return models.ValidationErrorf("Identifier: %s must be one topic level: no '/', '+', '#' or surrounding spaces.", py.Repr(id))
		}
		n, err := env.Sudo().WithContext(map[string]any{"active_test": false}).Count(env.Registry().Model("iot.device"),
			[]any{[]any{"broker_id", "=", r.Int("broker_id")}, []any{"identifier", "=", id}, []any{"id", "!=", r.ID}}, 0)
		if err != nil {
			return err
		}
		if n > 0 {
			return models.ValidationErrorf("Identifier: the broker already has a device %s.", py.Repr(id))
		}
	}
	return nil
}
