package iotdevice

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// cache keeps what device ingestion needs on every batch, so that a
// batch costs no query beyond its writes: each broker's discovery
// settings and the state of its known devices. A broker's entry is
// dropped when the broker changes, a device's when a client writes or
// deletes it. The zero value is ready.
type cache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation: a load that raced one is not kept
	brokers map[int64]*brokerDevices
}

type brokerDevices struct {
	topics  DeviceTopics
	devices map[string]*deviceState // by identifier
	ha      *haIndex                // nil until loaded (ha_index.go)
}

// deviceState is what ingestion knows of one device record. Stored
// states are never modified: a batch works on copies and stores them
// once committed.
type deviceState struct {
	id         int64
	identifier string
	name       string
	typ        string
	connected  bool
	lastSeen   time.Time
	topicBase  string
	driver     string
	values     map[string]any          // last_values
	device     iot.Device              // descriptor from the stored info
	ha         map[string]iot.HAEntity // ha_config, by discovery key
}

// clone returns a copy the batch may change.
func (s *deviceState) clone() *deviceState {
	c := *s
	c.values = make(map[string]any, len(s.values)+1)
	for k, v := range s.values {
		c.values[k] = v
	}
	c.ha = maps.Clone(s.ha)
	return &c
}

// deviceTopicsOf returns a broker's discovery settings, loading them on
// a miss; ok is false for a broker that does not exist.
func (a *Addon) deviceTopicsOf(ctx context.Context, brokerID int64) (DeviceTopics, bool, error) {
	c := &a.cache
	c.mu.Lock()
	if b := c.brokers[brokerID]; b != nil {
		t := b.topics
		c.mu.Unlock()
		return t, true, nil
	}
	gen := c.gen
	c.mu.Unlock()
	topics, ok, err := a.BrokerTopics(ctx, brokerID)
	if err != nil || !ok {
		return DeviceTopics{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if c.brokers == nil {
			c.brokers = map[int64]*brokerDevices{}
		}
		c.brokers[brokerID] = &brokerDevices{topics: topics, devices: map[string]*deviceState{}}
	}
	return topics, true, nil
}

// knownDevices returns the cached states of identifiers, and the
// generation to hand storeDevices.
func (c *cache) knownDevices(brokerID int64, identifiers []string) (map[string]*deviceState, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*deviceState, len(identifiers))
	if b := c.brokers[brokerID]; b != nil {
		for _, id := range identifiers {
			if s := b.devices[id]; s != nil {
				out[id] = s
			}
		}
	}
	return out, c.gen
}

// storeDevices keeps committed states, unless something was invalidated
// since gen (the states may predate that change).
func (c *cache) storeDevices(brokerID int64, gen uint64, states []*deviceState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.brokers[brokerID]
	if b == nil || c.gen != gen {
		return
	}
	for _, s := range states {
		b.devices[s.identifier] = s
	}
}

// forget drops brokers (all when brokerIDs is nil) and the devices with
// the given record ids.
func (c *cache) forget(brokerIDs, deviceIDs []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if brokerIDs == nil && deviceIDs == nil {
		c.brokers = nil
		return
	}
	for _, id := range brokerIDs {
		delete(c.brokers, id)
	}
	if len(deviceIDs) == 0 {
		return
	}
	drop := make(map[int64]bool, len(deviceIDs))
	for _, id := range deviceIDs {
		drop[id] = true
	}
	for _, b := range c.brokers {
		b.ha = nil // a device edited or deleted by hand: its entities are read again
		for ident, s := range b.devices {
			if drop[s.id] {
				delete(b.devices, ident)
			}
		}
	}
}

// forgetBrokersAfterCommit drops brokers once env's transaction
// committed (and at once, so that a batch running meanwhile does not
// keep what it loaded).
func (c *cache) forgetBrokersAfterCommit(env *models.Env, ids []int64) {
	ids = append([]int64{}, ids...)
	c.forget(ids, nil)
	env.AfterCommit(func() { c.forget(ids, nil) })
}

// forgetDevicesAfterCommit is the same for device records.
func (c *cache) forgetDevicesAfterCommit(env *models.Env, ids []int64) {
	ids = append([]int64{}, ids...)
	c.forget(nil, ids)
	env.AfterCommit(func() { c.forget(nil, ids) })
}
