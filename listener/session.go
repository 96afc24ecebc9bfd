package listener

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net"
	"sync"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// session is one connection of a daemon: a client (client.go) from
// CONNACK to loss or disconnect. It owns an acker goroutine that sends the
// acknowledgements the writer hands it after each commit, in the order the
// messages arrived (as MQTT requires), so a slow or dead connection never
// holds up the writer and with it every other broker.
type session struct {
	d        *daemon
	client   client
	clientID string        // the client id it connected with: its session at the broker
	v5       bool          // MQTT 5: PUBLISH packets have properties
	lost     chan error    // the connection-lost handler's report
	done     chan struct{} // closed when the session ends

	mu      sync.Mutex
	closed  bool
	pending []func() // acks of committed messages, waiting to be sent
	wake    chan struct{}
	acked   chan struct{} // closed when the acker returned

	devices deviceFilters   // the device filters subscribed on this connection
	filters map[string]bool // the record filters subscribed on this connection (under mu)

	// Byte budget: reading a PUBLISH from the socket takes its bytes
	// (reserve), the handler hands them to its queue item (take), and
	// what paho read but never delivered is given back at close.
	overhead int        // bytes counted per message beyond its topic and payload
	unowned  int        // reserved by the connection, not yet taken by the handler
	sizes    []reserved // MQTT 5: what each PUBLISH reserved, in arrival order
	nonce    [16]byte   // starts the marker payload of a refused message
}

// reserved is one MQTT 5 PUBLISH's reservation: its properties count too,
// and paho.golang delivers every PUBLISH in arrival order on one
// goroutine, so the handler takes exactly what the connection reserved.
type reserved struct {
	id uint16 // packet id; 0 at QoS 0
	n  int
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
		overhead: orderedOverhead, v5: d.cfg.Protocol == mqttmodel.ProtocolV5}
	if !d.cfg.OrderMatters && !ss.v5 { // paho.golang delivers on one goroutine
		ss.overhead = unorderedOverhead
	}
	_, _ = rand.Read(ss.nonce[:])
	return ss
}

// reserve takes the bytes of a message of n topic and payload bytes (and
// properties, on MQTT 5) from the byte budget before the connection hands
// it to paho, waiting for room; it fails once the session or the
// connection (closed) ended. id is the PUBLISH's packet id.
func (ss *session) reserve(n int, id uint16, closed <-chan struct{}) error {
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
	if ss.v5 {
		ss.sizes = append(ss.sizes, reserved{id: id, n: n})
	}
	return nil
}

// take moves a delivered message's reserved bytes to its queue item and
// returns how many; false once the session ended (close gave them back).
func (ss *session) take(m *message) (int, bool) {
	n := len(m.topic) + len(m.payload) + ss.overhead
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return 0, false
	}
	if ss.v5 {
		n = ss.takeReserved(m)
	}
	n = min(n, ss.unowned) // every PUBLISH paho delivers came through reserve
	ss.unowned -= n
	return n, true
}

// takeReserved pops m's reservation. Those before it were of PUBLISH
// packets paho did not deliver (a QoS 2 duplicate it acknowledged
// itself): their bytes go back to the budget. Called with mu held.
func (ss *session) takeReserved(m *message) int {
	id := m.packetID
	for len(ss.sizes) > 0 {
		r := ss.sizes[0]
		ss.sizes = ss.sizes[1:]
		if r.id == id {
			if len(ss.sizes) == 0 {
				ss.sizes = ss.sizes[:0:0] // let the backing array go
			}
			return r.n
		}
		ss.unowned -= r.n
		ss.d.s.gate.release(r.n)
	}
	return len(m.topic) + len(m.payload) + ss.overhead // not reserved: nothing to take beyond unowned
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

// hooks are the daemon's client hooks: the broker connection under
// limitConn, every message to handle, the loss to lost.
func (ss *session) hooks(maxPayload int) clientHooks {
	return clientHooks{
		wrap: func(c net.Conn) net.Conn {
			lc := net.Conn(newLimitConn(c, ss, maxPayload))
			if w := ss.d.s.opts.wrapConn; w != nil {
				lc = w(lc)
			}
			return lc
		},
		onMessage: ss.handle,
		onLost:    ss.connectionLost,
		helper:    ss.d.s.goHelper,
	}
}

// start records the connected client and starts the acker; close waits
// for it.
func (ss *session) start(c client) {
	ss.client = c
	go ss.acker()
}

// handle is the client's message handler. It only looks up the message's
// subscription and signal, and whether it is a device message, and
// queues it: no database work on paho's goroutine.
func (ss *session) handle(m message) {
	d := ss.d
	d.e.in.Add(1)
	d.received.Inc()
	size, ok := ss.take(&m)
	if !ok { // a late delivery: the session ended
		d.s.abandon(item{msg: m, sess: ss})
		return
	}
	if n, refused := ss.refusedSize(m.payload); refused {
		d.refuse(m.topic, n)
		if m.qos == 0 {
			d.s.gate.release(size)
			return
		}
		// Queued all the same, to be acknowledged in arrival order.
		d.s.enqueue(item{msg: m, at: time.Now(), broker: d.cfg.ID, sess: ss, size: size, refused: true})
		return
	}
	sub, signal := d.routes.load().lookup(m.topic)
	it := item{msg: m, at: time.Now(), broker: d.cfg.ID, sub: sub, signal: signal, sess: ss, device: d.isDevice(m.topic), size: size}
	if it.device && len(m.payload) > maxDevicePayload {
		it.deviceTooLarge = true
		d.skipDevice(m.topic, len(m.payload))
	}
	d.s.enqueue(it)
}

func (ss *session) connectionLost(err error) {
	select {
	case ss.lost <- err:
	default:
	}
}

// ack queues committed QoS 1/2 messages for acknowledgement. After the
// session ended they are dropped: the broker redelivers them to a
// persistent session, and they are stored already.
func (ss *session) ack(acks []func()) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return
	}
	ss.pending = append(ss.pending, acks...)
	ss.mu.Unlock()
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}

func (ss *session) acker() {
	defer close(ss.acked)
	var batch []func()
	for {
		select {
		case <-ss.done:
			return
		case <-ss.wake:
		}
		ss.mu.Lock()
		batch, ss.pending = ss.pending, batch[:0]
		ss.mu.Unlock()
		for _, ack := range batch {
			select {
			case <-ss.done:
				return
			default:
			}
			ack()
		}
		clear(batch) // let the messages go
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
	ss.unowned, ss.sizes = 0, nil
	ss.mu.Unlock()
	ss.d.s.gate.release(unowned)
	close(ss.done)
	<-ss.acked
}

// userFilters are the record filters subscribed on this connection.
func (ss *session) userFilters() []string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]string, 0, len(ss.filters))
	for f := range ss.filters {
		out = append(out, f)
	}
	return out
}

// setUserFilter records that a record filter was subscribed (on) or
// unsubscribed on this connection.
func (ss *session) setUserFilter(f string, on bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !on {
		delete(ss.filters, f)
		return
	}
	if ss.filters == nil {
		ss.filters = map[string]bool{}
	}
	ss.filters[f] = true
}
