package listener

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/url"
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

	// Byte budget: reading a PUBLISH from the socket takes its bytes
	// (reserve), the handler hands them to its queue item (take), and
	// what paho read but never delivered is given back at close.
	overhead int      // bytes counted per message beyond its topic and payload
	unowned  int      // reserved by the connection, not yet taken by the handler
	nonce    [16]byte // starts the marker payload of a refused message
}

// Per-message overheads counted in the byte budget besides topic and
// payload: paho's packet and message, and our queue item; unordered,
// also the goroutine paho starts for each message.
const (
	orderedOverhead   = 256
	unorderedOverhead = 4 << 10
)

func newSession(d *daemon) *session {
	ss := &session{d: d, lost: make(chan error, 1), done: make(chan struct{}), wake: make(chan struct{}, 1), acked: make(chan struct{}),
		overhead: orderedOverhead}
	if !d.cfg.OrderMatters {
		ss.overhead = unorderedOverhead
	}
	_, _ = rand.Read(ss.nonce[:])
	return ss
}

// reserve takes the bytes of a message of n topic and payload bytes from
// the byte budget before the connection hands it to paho, waiting for
// room; it fails once the session or the connection (closed) ended.
func (ss *session) reserve(n int, closed <-chan struct{}) error {
	n += ss.overhead
	if !ss.d.s.gate.acquire(n, ss.done, closed) {
		return net.ErrClosed
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		ss.d.s.gate.release(n)
		return net.ErrClosed
	}
	ss.unowned += n
	return nil
}

// take moves a delivered message's reserved bytes to its queue item and
// returns how many; false once the session ended (close gave them back).
func (ss *session) take(topicAndPayload int) (int, bool) {
	n := topicAndPayload + ss.overhead
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return 0, false
	}
	n = min(n, ss.unowned) // every PUBLISH paho delivers came through reserve
	ss.unowned -= n
	return n, true
}

// appendMarker appends the payload paho gets for a refused message of
// payload bytes.
func (ss *session) appendMarker(b []byte, payload int) []byte {
	return binary.BigEndian.AppendUint64(append(b, ss.nonce[:]...), uint64(payload))
}

// refusedSize tells a refused message's marker from a payload, and
// returns the refused payload's size. A publisher cannot forge it: the
// nonce is random per connection and never leaves this process.
func (ss *session) refusedSize(payload []byte) (int, bool) {
	if len(payload) != markerSize || !bytes.Equal(payload[:len(ss.nonce)], ss.nonce[:]) {
		return 0, false
	}
	return int(binary.BigEndian.Uint64(payload[len(ss.nonce):])), true
}

// openConn is paho's connection hook for a daemon's client: the broker
// connection under limitConn.
func (ss *session) openConn(maxPayload int) mqtt.OpenConnectionFunc {
	return func(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
		c, err := dialBroker(uri, o)
		if err != nil {
			return nil, err
		}
		return newLimitConn(c, ss, maxPayload), nil
	}
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
	d.e.in.Add(1)
	d.received.Inc()
	size, ok := ss.take(len(m.Topic()) + len(m.Payload()))
	if !ok { // a late delivery: the session ended
		d.s.abandon(item{msg: m, sess: ss})
		return
	}
	if n, refused := ss.refusedSize(m.Payload()); refused {
		d.refuse(m.Topic(), n)
		if m.Qos() == 0 {
			d.s.gate.release(size)
			return
		}
		// Queued all the same, to be acknowledged in arrival order.
		d.s.enqueue(item{msg: m, at: time.Now(), broker: d.cfg.ID, sess: ss, size: size, refused: true})
		return
	}
	sub, signal := d.routes.load().lookup(m.Topic())
	it := item{msg: m, at: time.Now(), broker: d.cfg.ID, sub: sub, signal: signal, sess: ss, device: d.isDevice(m.Topic()), size: size}
	if it.device && len(m.Payload()) > maxDevicePayload {
		it.deviceTooLarge = true
		d.skipDevice(m.Topic(), len(m.Payload()))
	}
	d.s.enqueue(it)
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
	unowned := ss.unowned
	ss.unowned = 0
	ss.mu.Unlock()
	ss.d.s.gate.release(unowned)
	close(ss.done)
	<-ss.acked
}
