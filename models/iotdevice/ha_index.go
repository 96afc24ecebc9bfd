package iotdevice

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Home Assistant discovery (iot/ha_config.go) as a device convention: a
// retained config on homeassistant/<component>/[<node>/]<object>/config
// adds an entity to the device its "device" block names (created on its
// first entity), stored in the device's ha_config; the entity's state
// and availability topics then feed the device as its telemetry and
// availability do. The broker's switch is device_discovery
// (DeviceTopics.HADiscovery).

// Bounds: a device announcing an entity per message, or a broker full of
// them, must not grow records and subscriptions without end.
const (
	MaxHAEntities = 64   // per device
	MaxHATopics   = 2000 // state and availability topics per broker
)

// haRef is one use of a topic: the state (avail < 0) or an availability
// topic of an entity of a device.
type haRef struct {
	ident, key string
	avail      int
}

// haIndex is a broker's discovered entities by topic: which device each
// discovery key belongs to, and what each state or availability topic
// feeds. Stored indexes are never modified: a batch works on a clone.
type haIndex struct {
	owner   map[string]string       // discovery key -> device identifier
	entity  map[string]iot.HAEntity // discovery key -> entity
	topics  map[string][]haRef
	changed bool // topics changed in this batch
}

func newHAIndex() *haIndex {
	return &haIndex{owner: map[string]string{}, entity: map[string]iot.HAEntity{}, topics: map[string][]haRef{}}
}

func (x *haIndex) clone() *haIndex {
	c := &haIndex{owner: maps.Clone(x.owner), entity: maps.Clone(x.entity), topics: make(map[string][]haRef, len(x.topics))}
	for t, refs := range x.topics {
		c.topics[t] = slices.Clone(refs)
	}
	return c
}

// count is the number of entities of device ident.
func (x *haIndex) count(ident string) int {
	n := 0
	for _, o := range x.owner {
		if o == ident {
			n++
		}
	}
	return n
}

// put adds or replaces an entity; false when the broker has too many
// topics for it.
func (x *haIndex) put(ident string, e iot.HAEntity) bool {
	oldOwner, had := x.owner[e.Key]
	old := x.entity[e.Key]
	x.remove(e.Key)
	topics := entityTopics(e)
	fresh := 0
	for _, t := range topics {
		if len(x.topics[t]) == 0 {
			fresh++
		}
	}
	if len(x.topics)+fresh > MaxHATopics {
		if had { // keep what was
			x.add(oldOwner, old)
		}
		return false
	}
	x.add(ident, e)
	return true
}

func (x *haIndex) add(ident string, e iot.HAEntity) {
	x.owner[e.Key], x.entity[e.Key] = ident, e
	if e.StateTopic != "" {
		x.addRef(e.StateTopic, haRef{ident: ident, key: e.Key, avail: -1})
	}
	for i, a := range e.Availability {
		x.addRef(a.Topic, haRef{ident: ident, key: e.Key, avail: i})
	}
}

func (x *haIndex) addRef(t string, r haRef) {
	if len(x.topics[t]) == 0 {
		x.changed = true
	}
	x.topics[t] = append(x.topics[t], r)
}

// remove drops an entity; it returns its device ("" when unknown).
func (x *haIndex) remove(key string) string {
	ident, ok := x.owner[key]
	if !ok {
		return ""
	}
	e := x.entity[key]
	delete(x.owner, key)
	delete(x.entity, key)
	for _, t := range entityTopics(e) {
		refs := slices.DeleteFunc(x.topics[t], func(r haRef) bool { return r.key == key })
		if len(refs) == 0 {
			delete(x.topics, t)
			x.changed = true
		} else {
			x.topics[t] = refs
		}
	}
	return ident
}

func entityTopics(e iot.HAEntity) []string {
	var out []string
	if e.StateTopic != "" {
		out = append(out, e.StateTopic)
	}
	for _, a := range e.Availability {
		out = append(out, a.Topic)
	}
	return out
}

// topicList is the index's topics, sorted.
func (x *haIndex) topicList() []string { return slices.Sorted(maps.Keys(x.topics)) }

// parseEntities reads a device's ha_config; a hand-edited value that is
// not JSON is no entities.
func parseEntities(s string) map[string]iot.HAEntity {
	out := map[string]iot.HAEntity{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}

// entityList is the entities in key order (the device's iot.Device.HA).
func entityList(m map[string]iot.HAEntity) []iot.HAEntity {
	out := make([]iot.HAEntity, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// loadHAIndex builds a broker's index from its devices' ha_config.
func (a *Addon) loadHAIndex(ctx context.Context, brokerID int64) (*haIndex, error) {
	x := newHAIndex()
	err := a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		su := env.Sudo().WithContext(map[string]any{"active_test": false})
		m := a.reg.Model("iot.device")
		ids, err := su.Search(m, []any{[]any{"broker_id", "=", brokerID}}, 0, 0, "id")
		if err != nil {
			return err
		}
		recs, err := su.Load(m, ids, "identifier", "ha_config")
		if err != nil {
			return err
		}
		for _, r := range recs {
			for _, e := range entityList(parseEntities(r.Str("ha_config"))) {
				if x.count(r.Str("identifier")) < MaxHAEntities {
					x.put(r.Str("identifier"), e)
				}
			}
		}
		return nil
	})
	x.changed = false
	return x, err
}

// haIndexOf is the broker's index, cached; gen is the cache generation it
// was read at (storeHA keeps a batch's result only if nothing was
// invalidated since).
func (a *Addon) haIndexOf(ctx context.Context, brokerID int64) (*haIndex, uint64, error) {
	c := &a.cache
	c.mu.Lock()
	gen := c.gen
	if b := c.brokers[brokerID]; b != nil && b.ha != nil {
		x := b.ha
		c.mu.Unlock()
		return x, gen, nil
	}
	c.mu.Unlock()
	x, err := a.loadHAIndex(ctx, brokerID)
	if err != nil {
		return nil, 0, err
	}
	c.storeHA(brokerID, gen, x)
	return x, gen, nil
}

// storeHA keeps a broker's index unless something was invalidated since
// gen.
func (c *cache) storeHA(brokerID int64, gen uint64, x *haIndex) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.brokers[brokerID]; b != nil && c.gen == gen {
		b.ha = x
	}
}

// HATopics are the state and availability topics of a broker's
// discovered entities: the listener subscribes them besides the device
// topics while HADiscovery is on. Empty when it is off.
func (a *Addon) HATopics(ctx context.Context, brokerID int64) ([]string, error) {
	topics, ok, err := a.deviceTopicsOf(ctx, brokerID)
	if err != nil || !ok || !topics.HADiscovery() {
		return nil, err
	}
	x, _, err := a.haIndexOf(ctx, brokerID)
	if err != nil {
		return nil, err
	}
	return x.topicList(), nil
}

// OnHATopics adds fn to the functions told that a broker's HATopics
// changed (the listener then subscribes the new ones). Call it before
// ingestion starts; fn runs on the ingesting goroutine and must not
// block.
func (a *Addon) OnHATopics(fn func(brokerID int64)) {
	a.hooksMu.Lock()
	defer a.hooksMu.Unlock()
	a.onHATopics = append(a.onHATopics, fn)
}

// tellHATopics calls the OnHATopics functions.
func (a *Addon) tellHATopics(brokerID int64) {
	a.hooksMu.Lock()
	fns := slices.Clone(a.onHATopics)
	a.hooksMu.Unlock()
	for _, fn := range fns {
		fn(brokerID)
	}
}

// HAStats count the discovery configs read, and those refused.
type HAStats struct {
	Configs  int64 // entities added or updated
	Removed  int64 // entities removed by an empty config
	Invalid  int64 // configs that are not JSON, lack a topic, ...
	Ignored  int64 // components not read
	Overflow int64 // refused by MaxHAEntities or MaxHATopics
}

type haCounters struct{ configs, removed, invalid, ignored, overflow atomic.Int64 }

// HAStats returns the counts since the addon started.
func (a *Addon) HAStats() HAStats {
	c := &a.haCount
	return HAStats{Configs: c.configs.Load(), Removed: c.removed.Load(), Invalid: c.invalid.Load(), Ignored: c.ignored.Load(), Overflow: c.overflow.Load()}
}
