package iotbox

import (
	"encoding/json"
	"sync"
	"time"
)

// What the box remembers of actions: per device, who called last (its
// events carry that session_id as "owner") and with what data (events
// shortly after carry it as "request_data"); and the iot_idempotent_id
// values seen lately, so that a client retrying an action does not run it
// twice.

const (
	// idempotentTTL is how long an iot_idempotent_id is remembered.
	idempotentTTL = 60 * time.Second
	// requestDataWindow is how long after an action the device's events
	// carry its data: on the box, only events raised while the action ran
	// do; over MQTT the answer comes back asynchronously.
	requestDataWindow = 5 * time.Second
)

type owner struct {
	session string
	data    json.RawMessage // compact JSON object
	at      time.Time
}

type actions struct {
	mu        sync.Mutex
	owners    map[string]owner     // by device_identifier
	seen      map[string]time.Time // idempotent keys, when first seen
	lastPrune time.Time
}

func newActions() *actions {
	return &actions{owners: map[string]owner{}, seen: map[string]time.Time{}}
}

// claim records an idempotent key at now and reports false when it was
// already claimed within idempotentTTL.
func (a *actions) claim(key string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastPrune) >= idempotentTTL/6 {
		a.lastPrune = now
		for k, t := range a.seen {
			if now.Sub(t) >= idempotentTTL {
				delete(a.seen, k)
			}
		}
	}
	if t, ok := a.seen[key]; ok && now.Sub(t) < idempotentTTL {
		return false
	}
	a.seen[key] = now
	return true
}

// release forgets a claim whose action failed, so that a retry runs.
func (a *actions) release(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.seen, key)
}

// setOwner records the caller of an action on device.
func (a *actions) setOwner(device string, o owner) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.owners[device] = o
}

// ownerOf returns what an event of device at now carries: the session of
// the last action's caller ("" if none) and its data while recent (nil
// otherwise).
func (a *actions) ownerOf(device string, now time.Time) (session string, data json.RawMessage, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.owners[device]
	if !ok {
		return "", nil, false
	}
	if now.Sub(o.at) <= requestDataWindow {
		data = o.data
	}
	return o.session, data, true
}
