package listener

import (
	"sync"
	"sync/atomic"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// routes links received messages to the records they belong to: the
// subscription whose filter matched (MQTT wildcard semantics) and the
// signal whose topic is the message's topic. A daemon swaps in a new
// value on change (copy on write), so the message handler reads it without
// a lock.
type routes struct {
	subs    []mqttmodel.SubscriptionConfig // by ascending id
	signals map[string]int64               // signal topic -> signal id
}

func newRoutes(subs []mqttmodel.SubscriptionConfig, signals map[string]int64) *routes {
	return &routes{subs: subs, signals: signals}
}

// lookup returns the subscription and signal of a message on topic name,
// 0 when none. A filter equal to the topic wins; otherwise the oldest
// matching subscription does, so overlapping filters give a stable answer.
func (r *routes) lookup(name string) (sub, signal int64) {
	if r == nil {
		return 0, 0
	}
	for _, s := range r.subs {
		if topic.Filter(s.Topic) == name {
			sub = s.ID
			break
		}
		if sub == 0 && topic.Match(s.Topic, name) {
			sub = s.ID
		}
	}
	return sub, r.signals[name]
}

// routeTable is a daemon's current routes.
type routeTable struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[routes]
}

func (t *routeTable) load() *routes { return t.cur.Load() }

// update replaces the routes with what fn makes of a copy of them.
func (t *routeTable) update(fn func(r *routes)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.cur.Load()
	next := &routes{signals: map[string]int64{}}
	if old != nil {
		next.subs = append(next.subs, old.subs...)
		next.signals = old.signals
	}
	fn(next)
	t.cur.Store(next)
}

// setSubscriptions replaces the subscription list.
func (t *routeTable) setSubscriptions(subs []mqttmodel.SubscriptionConfig) {
	t.update(func(r *routes) { r.subs = subs })
}

// setSignals replaces the signal topics.
func (t *routeTable) setSignals(signals map[string]int64) {
	t.update(func(r *routes) { r.signals = signals })
}

// addSubscription adds or replaces one subscription, keeping id order.
func (t *routeTable) addSubscription(s mqttmodel.SubscriptionConfig) {
	t.update(func(r *routes) {
		out := r.subs[:0:0]
		added := false
		for _, x := range r.subs {
			if x.ID == s.ID {
				continue
			}
			if !added && x.ID > s.ID {
				out = append(out, s)
				added = true
			}
			out = append(out, x)
		}
		if !added {
			out = append(out, s)
		}
		r.subs = out
	})
}

// removeSubscription drops one subscription.
func (t *routeTable) removeSubscription(id int64) {
	t.update(func(r *routes) {
		out := r.subs[:0:0]
		for _, x := range r.subs {
			if x.ID != id {
				out = append(out, x)
			}
		}
		r.subs = out
	})
}
