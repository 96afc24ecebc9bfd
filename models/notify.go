package models

import "context"

// Notifications are how the record layer tells browsers and IoT-box
// listeners what just happened: a message stored, a daemon changing state,
// a device reporting. Package bus implements Notifier (in-process fan-out,
// LISTEN/NOTIFY between instances) and server installs it with
// Registry.SetNotifier. The record layer only says what happened, after
// the transaction that made it true committed.

// Bus channels the record layer notifies on.
const (
	// ChannelRealtime carries every stored message, received or sent
	// (type NoteMessage), like the addon's later mqtt_realtime channel.
	ChannelRealtime = "mqtt_realtime"
	// ChannelListener carries daemon state changes (type NoteListenerState).
	ChannelListener = "mqtt_listener"
	// ChannelDevices carries device events and updates (types
	// NoteDeviceEvent, NoteDeviceUpdate).
	ChannelDevices = "iot_device"
)

// Notification types (the "type" of Odoo's {type, payload} messages).
const (
	NoteMessage       = "mqtt_message"
	NoteListenerState = "mqtt_listener_state"
	NoteDeviceEvent   = "iot_device_event"
	NoteDeviceUpdate  = "iot_device_update"
)

// channelModels says which model a user must be allowed to read to
// subscribe to a channel: the bus carries the same data read would return.
var channelModels = map[string]string{
	ChannelRealtime: "mqtt.signal.history",
	ChannelListener: "mqtt.broker",
	ChannelDevices:  "iot.device",
}

// Notification is one message for the bus. Payload must marshal to JSON
// (plain values, maps, slices, *Dict).
type Notification struct {
	Channel string
	Type    string
	Payload any
}

// Notifier delivers notifications. Notify must not block on the network
// or the database for long: implementations queue. Delivery is best
// effort, as in Odoo's bus; the database stays the record.
type Notifier interface {
	Notify(ctx context.Context, notes ...Notification)
}

// SetNotifier installs the bus. Without one, notifications are dropped.
func (r *Registry) SetNotifier(n Notifier) { r.notifier = n }

// Notify hands notes to the installed bus, if any.
func (r *Registry) Notify(ctx context.Context, notes ...Notification) {
	if r.notifier != nil && len(notes) > 0 {
		r.notifier.Notify(ctx, notes...)
	}
}

// notifyAfterCommit queues notes to go out once env's transaction
// committed, so nobody hears of a change that was rolled back.
func (e *Env) notifyAfterCommit(notes ...Notification) {
	reg, ctx := e.reg, e.Ctx
	e.AfterCommit(func() { reg.Notify(ctx, notes...) })
}

// CanSubscribe reports whether user uid may listen on channel: known
// channels need read access to the model whose data they carry.
func (r *Registry) CanSubscribe(ctx context.Context, uid int64, channel string) bool {
	model, ok := channelModels[channel]
	if !ok || r.Model(model) == nil {
		return false
	}
	allowed := false
	_ = r.Read(ctx, uid, nil, func(env *Env) error {
		allowed = env.allowed(r.Model(model), OpRead)
		return nil
	})
	return allowed
}
