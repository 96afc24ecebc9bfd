// Package iotdevice is the addon of Odoo's iot.device for MQTT devices:
// the model, discovered and kept up to date from what devices publish
// (Addon.IngestDeviceMessages), driven through its drivers (action,
// push_config), the bus channel iot_device, and the device topic fields
// it adds to mqtt.broker (an extension: the mqtt addon does not know of
// them), and iot.command, the request/response commands sent to devices
// (iot.device.call, call_async; command.go) with the worker that sends
// and expires them (RunCommands).
package iotdevice

import (
	"log/slog"
	"sync"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// ChannelDevices carries device events and updates (types
// NoteDeviceEvent, NoteDeviceUpdate), and commands' changes
// (NoteCommand).
const (
	ChannelDevices   = "iot_device"
	NoteDeviceEvent  = "iot_device_event"
	NoteDeviceUpdate = "iot_device_update"
)

// Options configure the addon.
type Options struct {
	// Drivers handle the devices; nil means iot.DefaultRegistry (smart
	// object, generic JSON).
	Drivers *iot.Registry
}

// Addon is the iot.device addon: give it to models.New after the mqtt
// addon it extends, then hand it to the listener for device ingestion.
type Addon struct {
	mqtt    *mqtt.Addon
	drivers *iot.Registry
	reg     *models.Registry // set once built
	log     *slog.Logger
	cache   cache
	waiters commandWaiters    // calls waiting for their command
	wake    chan struct{}     // wakes RunCommands
	onState []DeviceStateFunc // told of devices going online or offline
	// onHATopics are told of a broker's changed HATopics; haCount counts
	// the discovery configs (ha_index.go).
	hooksMu    sync.Mutex
	onHATopics []func(brokerID int64)
	haCount    haCounters
}

// DeviceStateFunc is told that a device went online or offline (a new
// device that comes online too), once the ingestion that found it
// committed.
type DeviceStateFunc func(brokerID, deviceID int64, identifier string, online bool)

// OnDeviceState adds fn to the functions told of device state changes
// (the automation rules' device_online and device_offline triggers).
// Call it before ingestion starts; fn runs on the ingesting goroutine,
// so it must not block.
func (a *Addon) OnDeviceState(fn DeviceStateFunc) { a.onState = append(a.onState, fn) }

// New returns the addon, which reaches brokers through mq.
func New(mq *mqtt.Addon, opts Options) *Addon {
	a := &Addon{mqtt: mq, drivers: opts.Drivers, wake: make(chan struct{}, 1)}
	if a.drivers == nil {
		a.drivers = iot.DefaultRegistry()
	}
	return a
}

// Manifest declares iot.device and iot.command and extends mqtt.broker.
func (a *Addon) Manifest() models.Manifest {
	return models.Manifest{
		Name:    "iot",
		Depends: []string{"mqtt"},
		Models:  []*models.Model{a.device(), commandModel()},
		Extends: []*models.Extension{a.brokerExtension()},
		Built: func(r *models.Registry) error {
			a.reg, a.log = r, r.Logger()
			return nil
		},
	}
}
