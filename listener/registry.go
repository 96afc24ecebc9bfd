package listener

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// registry is the addon's MQTT_THREADS done safely: one entry per broker,
// keyed by broker id, guarded by a mutex. An entry outlives its daemon, so
// the status pages can still show why a stopped daemon stopped.
type registry struct {
	mu      sync.Mutex
	entries map[int64]*entry
}

// entry is one broker's row. Its status and daemon are guarded by
// registry.mu; the message counters are atomics because the message
// handler bumps them.
type entry struct {
	st     mqttmodel.DaemonStatus
	daemon *daemon // the running daemon, nil when there is none
	in     atomic.Uint64
	out    atomic.Uint64
}

func newRegistry() *registry { return &registry{entries: map[int64]*entry{}} }

// threadIdentifier is an entry's stable name, the counterpart of the
// addon's thread_identifier: the same for every daemon of one broker in
// one process.
func threadIdentifier(brokerID int64) string { return threadIdentifierOf(os.Getpid(), brokerID) }

// threadIdentifierOf is the name of a broker's entry in process pid (a
// daemon another instance of a cluster runs).
func threadIdentifierOf(pid int, brokerID int64) string {
	return fmt.Sprintf("mqtt_listener_%d_%d", pid, brokerID)
}

// entry returns the broker's entry, creating a stopped one.
func (r *registry) entry(id int64, name string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[id]
	if e == nil {
		e = &entry{st: mqttmodel.DaemonStatus{BrokerID: id, ThreadIdentifier: threadIdentifier(id), State: mqttmodel.StateStopped, Since: time.Now()}}
		r.entries[id] = e
	}
	if name != "" {
		e.st.BrokerName = name
	}
	return e
}

// has reports whether the broker has an entry.
func (r *registry) has(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entries[id] != nil
}

// running returns the broker's running daemon, or nil.
func (r *registry) running(id int64) *daemon {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[id]; e != nil {
		return e.daemon
	}
	return nil
}

// runningAll returns every running daemon.
func (r *registry) runningAll() []*daemon {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*daemon
	for _, e := range r.entries {
		if e.daemon != nil {
			out = append(out, e.daemon)
		}
	}
	return out
}

// setDaemon records the entry's running daemon (nil once it ended, unless
// another one took its place meanwhile).
func (r *registry) setDaemon(e *entry, d, ifCurrent *daemon) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ifCurrent == nil || e.daemon == ifCurrent {
		e.daemon = d
	}
}

// remove forgets a deleted broker.
func (r *registry) remove(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[id]; e != nil && e.daemon == nil {
		delete(r.entries, id)
	}
}

// update changes an entry's status under the lock.
func (r *registry) update(e *entry, fn func(st *mqttmodel.DaemonStatus)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(&e.st)
}

// status returns a copy of one entry's status.
func (r *registry) status(e *entry) mqttmodel.DaemonStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := e.st
	st.MessagesIn, st.MessagesOut = e.in.Load(), e.out.Load()
	return st
}

// snapshot returns every entry's status, by broker id.
func (r *registry) snapshot() []mqttmodel.DaemonStatus {
	r.mu.Lock()
	out := make([]mqttmodel.DaemonStatus, 0, len(r.entries))
	for _, e := range r.entries {
		st := e.st
		st.MessagesIn, st.MessagesOut = e.in.Load(), e.out.Load()
		out = append(out, st)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].BrokerID < out[j].BrokerID })
	return out
}
