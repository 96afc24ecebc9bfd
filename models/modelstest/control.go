package modelstest

import (
	"context"
	"sync"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Control is a mqtt.BrokerControl that records what the MQTT actions
// asked of the listener service and answers as its fields say. The real
// service is tested against Mosquitto in package listener; the model
// suites use Control to check what the models do around it: status
// persisted, history only on success, the addon's return values.
type Control struct {
	mu         sync.Mutex
	Running    bool
	Connected  bool
	CheckErr   error
	PublishErr error
	SubErr     error
	OnceErr    error // SubscribeOnce's answer
	Published  []mqtt.OutgoingMessage
	Subscribed []mqtt.SubscriptionConfig
	Changed    []int64
	Checked    int // CheckConnection calls
	// Status and Live are what Daemons and Instances answer; nil: one
	// connecting (or Connected) broker 1 without an owner, and no
	// instance.
	Status []mqtt.DaemonStatus
	Live   []mqtt.InstanceStatus
}

func (f *Control) CheckConnection(ctx context.Context, b mqtt.BrokerConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Checked++
	return f.CheckErr
}
func (f *Control) Subscribe(ctx context.Context, brokerID int64, s mqtt.SubscriptionConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.SubErr == nil {
		f.Subscribed = append(f.Subscribed, s)
	}
	return f.SubErr
}
func (f *Control) SubscribeOnce(ctx context.Context, b mqtt.BrokerConfig, s mqtt.SubscriptionConfig) error {
	return f.OnceErr
}
func (f *Control) Unsubscribe(ctx context.Context, brokerID int64, topic string) error {
	return nil
}
func (f *Control) Publish(ctx context.Context, b mqtt.BrokerConfig, m mqtt.OutgoingMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.PublishErr == nil {
		f.Published = append(f.Published, m)
	}
	return f.PublishErr
}
func (f *Control) StartService(ctx context.Context) error { f.Running = true; return nil }
func (f *Control) StopService(ctx context.Context) error  { f.Running = false; return nil }
func (f *Control) ServiceRunning() bool                   { return f.Running }
func (f *Control) Daemons() []mqtt.DaemonStatus {
	if f.Status != nil {
		return f.Status
	}
	state := mqtt.StateConnecting
	if f.Connected {
		state = mqtt.StateConnected
	}
	return []mqtt.DaemonStatus{{BrokerID: 1, BrokerName: "B", State: state}}
}
func (f *Control) Instances() []mqtt.InstanceStatus { return f.Live }
func (f *Control) BrokerChanged(ctx context.Context, id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Changed = append(f.Changed, id)
}

// TakePublished returns what was published since the last call.
func (f *Control) TakePublished() []mqtt.OutgoingMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.Published
	f.Published = nil
	return out
}
