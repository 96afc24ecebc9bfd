// Package mqtt is the addon the product is named for, the Odoo addon
// odoo-iot-mqtt in Go: the models mqtt.broker, mqtt.subscription,
// mqtt.signal, mqtt.signal.history and mqtt.service, their buttons
// (check_connection, subscribe, action_send_mqtt, start_mqtt_service,
// ...), the groups MQTT / User and MQTT / Manager, the bus channels
// mqtt_realtime and mqtt_listener, and the storage API the listener
// daemons use (Addon.BrokerConfigs, Addon.InsertHistory, ...).
//
// The addon talks to the daemons only through BrokerControl, which it
// declares and package listener implements; it imports no MQTT client.
package mqtt

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The addon's groups, keyed like Odoo xml ids. Membership implies the
// groups below: settings (base.group_system) ⊃ manager ⊃ user ⊃ internal
// user.
const (
	GroupUser    = "mqtt.group_mqtt_user"
	GroupManager = "mqtt.group_mqtt_manager"
)

// The bus channels of the addon's data, and the notification types sent
// on them.
const (
	// ChannelRealtime carries every stored message, received or sent
	// (type NoteMessage), like the addon's later mqtt_realtime channel.
	ChannelRealtime = "mqtt_realtime"
	// ChannelListener carries daemon state changes (type NoteListenerState).
	ChannelListener = "mqtt_listener"

	NoteMessage       = "mqtt_message"
	NoteListenerState = "mqtt_listener_state"
)

// Options configure the addon.
type Options struct {
	// Control returns the listener service, which the buttons drive. It is
	// asked at each call (the service is built after the registry it
	// stores into); nil, or a nil result, means this server runs no MQTT.
	Control func() BrokerControl
	// HistoryPartition is the span of one partition of the history on
	// PostgreSQL: models.GrainDay (the default; right from thousands of
	// messages a second) or models.GrainMonth (a small deployment: a
	// dozen partitions a year). See docs/HISTORY-PARTITIONING.md.
	HistoryPartition models.Grain
}

// Addon is the mqtt addon: give it to models.New, then hand it to the
// listener as its store.
type Addon struct {
	opts    Options
	reg     *models.Registry // set once built
	log     *slog.Logger
	history *models.Bulk // InsertHistory's prepared insert
	swept   atomic.Int64 // when the last successful purge started, Unix ms (retention.go)
}

// New returns the addon; it is usable once models.New has built the
// registry with it.
func New(opts Options) *Addon { return &Addon{opts: opts} }

// Manifest declares the addon's groups and models.
func (a *Addon) Manifest() models.Manifest {
	return models.Manifest{
		Name: "mqtt",
		Groups: []models.Group{
			{Key: GroupUser, Name: "MQTT / User", Implies: []string{models.GroupUser}},
			{Key: GroupManager, Name: "MQTT / Manager", Implies: []string{GroupUser}, ImpliedBy: []string{models.GroupSystem}},
		},
		Models: []*models.Model{a.broker(), a.subscription(), a.signal(), historyModel(a.opts.HistoryPartition), a.service()},
		Built:  a.built,
		Tables: func(d models.Dialect) []string { return append(inflightTables(d), summaryTables(d)...) },
	}
}

func (a *Addon) built(r *models.Registry) error {
	a.reg, a.log = r, r.Logger()
	var err error
	if a.history, err = r.Bulk("mqtt.signal.history", historyFields...); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// control returns the listener service, or nil without MQTT.
func (a *Addon) control() BrokerControl {
	if a.opts.Control == nil {
		return nil
	}
	return a.opts.Control()
}

// Control returns the listener service, or the UserError a button
// answers without one.
func (a *Addon) Control() (BrokerControl, error) {
	if ctl := a.control(); ctl != nil {
		return ctl, nil
	}
	return nil, models.UserErrorf("MQTT is not available in this server.")
}

// Registry is the registry the addon was built into.
func (a *Addon) Registry() *models.Registry { return a.reg }
