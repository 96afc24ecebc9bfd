package iotbox

import (
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The box keeps a listener per client session_id (a uuid the browser
// makes up) so that a new poll from the same client ends the one it
// aborted: the browser's fetch is gone, but the server would otherwise
// hold it until the timeout. Listeners are keyed by user too, so that one
// user cannot end another's polls by sending the same session_id.

// listenerIdle is how long a listener that is not polling is kept (the
// box drops them after 70 s).
const listenerIdle = 70 * time.Second

// maxListeners bounds the table: session ids are chosen by clients.
const maxListeners = 10000

type listenerKey struct {
	uid int64
	sid string
}

type listener struct {
	seen  time.Time     // last poll start or end
	abort chan struct{} // closed to end the running poll; nil when idle
}

type listeners struct {
	mu        sync.Mutex
	m         map[listenerKey]*listener
	lastPrune time.Time
}

func newListeners() *listeners {
	return &listeners{m: map[listenerKey]*listener{}}
}

// start registers a poll of key at now, ends the poll key was running, and
// returns a channel closed when a newer poll of key starts, and the
// function to call when this poll ends.
func (l *listeners) start(key listenerKey, now time.Time) (abort <-chan struct{}, done func(time.Time), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastPrune) >= listenerIdle/7 {
		l.pruneLocked(now)
	}
	ln := l.m[key]
	if ln == nil {
		if len(l.m) >= maxListeners {
			return nil, nil, models.UserErrorf("Too many IoT listeners, please try again later.")
		}
		ln = &listener{}
		l.m[key] = ln
	}
	if ln.abort != nil {
		close(ln.abort)
	}
	ch := make(chan struct{})
	ln.abort, ln.seen = ch, now
	return ch, func(end time.Time) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if ln.abort == ch {
			ln.abort = nil
		}
		ln.seen = end
	}, nil
}

// pruneLocked drops the listeners idle for longer than listenerIdle.
func (l *listeners) pruneLocked(now time.Time) {
	l.lastPrune = now
	for k, ln := range l.m {
		if ln.abort == nil && now.Sub(ln.seen) > listenerIdle {
			delete(l.m, k)
		}
	}
}

// len reports how many listeners are registered.
func (l *listeners) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
