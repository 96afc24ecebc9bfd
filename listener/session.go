package listener

import (
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// session is one connection of a daemon: a paho client from CONNACK to
// loss or disconnect. It owns an acker goroutine that sends the
// acknowledgements the writer hands it after each commit, in the order the
// messages arrived (as MQTT requires), so a slow or dead connection never
// holds up the writer and with it every other broker.
type session struct {
	d      *daemon
	client mqtt.Client
	lost   chan error    // the connection-lost handler's report
	done   chan struct{} // closed when the session ends

	mu      sync.Mutex
	closed  bool
	pending []mqtt.Message // committed, waiting to be acknowledged
	wake    chan struct{}
	acked   chan struct{} // closed when the acker returned

	devices deviceFilters // the device filters subscribed on this connection
}

func newSession(d *daemon) *session {
	return &session{d: d, lost: make(chan error, 1), done: make(chan struct{}), wake: make(chan struct{}, 1), acked: make(chan struct{})}
}

// start records the connected client and starts the acker; close waits
// for it.
func (ss *session) start(c mqtt.Client) {
	ss.client = c
	go ss.acker()
}

// handle is paho's message handler. It only looks up the message's
// subscription and signal, and whether it is a device message, and
// queues it: no database work on paho's goroutine.
func (ss *session) handle(_ mqtt.Client, m mqtt.Message) {
	d := ss.d
	sub, signal := d.routes.load().lookup(m.Topic())
	d.e.in.Add(1)
	d.received.Inc()
	d.s.enqueue(item{msg: m, at: time.Now(), broker: d.cfg.ID, sub: sub, signal: signal, sess: ss, device: d.isDevice(m.Topic())})
}

func (ss *session) connectionLost(_ mqtt.Client, err error) {
	select {
	case ss.lost <- err:
	default:
	}
}

// ack queues committed QoS 1/2 messages for acknowledgement. After the
// session ended they are dropped: the broker redelivers them to a
// persistent session, and they are stored already.
func (ss *session) ack(ms []mqtt.Message) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.pending = append(ss.pending, ms...)
	ss.mu.Unlock()
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}

func (ss *session) acker() {
	defer close(ss.acked)
	var batch []mqtt.Message
	for {
		select {
		case <-ss.done:
			return
		case <-ss.wake:
		}
		ss.mu.Lock()
		batch, ss.pending = ss.pending, batch[:0]
		ss.mu.Unlock()
		for _, m := range batch {
			select {
			case <-ss.done:
				return
			default:
			}
			m.Ack()
		}
		clear(batch) // let the payloads go
	}
}

// close ends the session after its client disconnected or was lost:
// pending acknowledgements are dropped, a handler blocked on a full queue
// gives up, and the acker is waited for.
func (ss *session) close() {
	ss.mu.Lock()
	ss.closed = true
	ss.pending = nil
	ss.mu.Unlock()
	close(ss.done)
	<-ss.acked
}
