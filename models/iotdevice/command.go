package iotdevice

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Commands are request/response calls to devices (ThingsBoard's RPC,
// MQTT 5's request/response): iot.device.call publishes
// {"method": name, "params": params} on the device's request topic and
// waits for the device's answer on its response topic; every call is an
// iot.command row that records it.
//
// The request id (correlation_id) pairs the two: on MQTT 5 it is the
// request's Correlation Data (with the response topic as its Response
// Topic), and a response carrying Correlation Data is matched by it; on
// MQTT 3.1/3.1.1, or when a device answers without it, the {request_id}
// of the response topic is. Responses come in through device discovery
// (IngestDeviceMessages), so a broker without it cannot take commands.
//
// A command's life: pending (persistent, waiting for its device to come
// online) -> sent (handed to the broker) -> succeeded (a JSON answer),
// failed (not published, or an answer that is not JSON) or timed_out (no
// answer within its timeout, counted from creation). Once finished it
// does not change: a late answer is logged and ignored. Every change is
// a NoteCommand on ChannelDevices. Finished commands are deleted after
// CommandRetention by the command worker (RunCommands).

// NoteCommand tells of a command's new status on ChannelDevices: its id,
// device_id, broker_id, name, status, response (JSON text or false) and
// error (text or false).
const NoteCommand = "iot_command"

// The statuses of a command.
const (
	StatusPending   = "pending"
	StatusSent      = "sent"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed_out"
)

// Bounds of a command's timeout, in seconds.
const (
	DefaultCommandTimeout = 10
	MaxCommandTimeout     = 3600
)

var commandStatuses = models.Choices(
	StatusPending, "Pending", StatusSent, "Sent", StatusSucceeded, "Succeeded",
	StatusFailed, "Failed", StatusTimedOut, "Timed out")

// commandModel is iot.command. Users read the commands (they create them
// through iot.device.call); managers may edit and delete them. Every
// field is the system's: the form shows them read-only.
func commandModel() *models.Model {
	return &models.Model{
		Name: "iot.command", Description: "IoT Device Command", Order: "id desc",
		Fields: []*models.Field{
			{Name: "device_id", Type: models.Many2one, Relation: "iot.device", String: "Device", Required: true, OnDelete: "cascade", Index: true},
			{Name: "broker_id", Type: models.Many2one, Relation: "mqtt.broker", String: "Broker", Required: true, OnDelete: "cascade"},
			{Name: "name", Type: models.Char, String: "Method", Required: true, Help: `The request's "method".`},
			{Name: "params", Type: models.Text, Help: `JSON of the request's "params".`},
			{Name: "response", Type: models.Text, Readonly: true, Help: "The device's answer, JSON."},
			{Name: "status", Type: models.Selection, Required: true, Index: true, Readonly: true, Default: models.Constant(StatusPending), Selection: commandStatuses},
			{Name: "correlation_id", Type: models.Char, String: "Request id", Required: true, Unique: true, Readonly: true, NoCopy: true,
				Default: func(*models.Env) any { return newRequestID() },
				Help:    "The {request_id} of the request and response topics, and the Correlation Data on MQTT 5."},
			{Name: "timeout", Type: models.Integer, String: "Timeout (s)", Default: models.Constant(int64(DefaultCommandTimeout)),
				Help: "Seconds from creation within which the device must answer."},
			{Name: "persistent", Type: models.Boolean, Default: models.Constant(false),
				Help: "Wait (pending) while the device is offline, and send it when its availability says online."},
			{Name: "request_topic", Type: models.Char, Readonly: true},
			{Name: "sent_at", Type: models.Datetime, String: "Sent at", Readonly: true},
			{Name: "answered_at", Type: models.Datetime, String: "Answered at", Readonly: true},
			{Name: "error", Type: models.Text, Readonly: true},
		},
		Indexes: []models.Index{{Name: "iot_command_status_create_date", Fields: []string{"status", "create_date"}}},
		Access:  map[string]string{mqtt.GroupUser: "r", mqtt.GroupManager: "rwcu"},
	}
}

// newRequestID is a command's correlation: 96 random bits in hex, one
// topic level that no device could guess.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}

// commandNote is the NoteCommand of a command record.
func commandNote(rec *models.Record) models.Notification {
	text := func(name string) any {
		if s := rec.Str(name); s != "" {
			return s
		}
		return false
	}
	return models.Notification{Channel: ChannelDevices, Type: NoteCommand, Payload: map[string]any{
		"id": rec.ID, "device_id": rec.Int("device_id"), "broker_id": rec.Int("broker_id"), "name": rec.Str("name"),
		"status": rec.Str("status"), "response": text("response"), "error": text("error"),
	}}
}
