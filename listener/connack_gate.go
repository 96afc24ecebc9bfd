package listener

import (
	"net"
	"sync"
)

// connackGate holds back what the broker sends after its CONNACK until
// paho's Connect has returned (release). paho.golang (v0.23) starts its
// reading goroutine before it resets its acknowledgement tracker, so a
// PUBLISH that a resumed session delivers right behind the CONNACK can
// be added to the tracker and then forgotten by the reset: its PUBACK is
// never sent, and the message holds a slot of the broker's in-flight
// window until the next connection (the whole window, and the session
// stalls, when several went that way). Seen with Mosquitto 2.0.11 under
// load: TestPersistentSessionAndAckAfterCommit.
//
// Reads are sequential (paho reads the CONNACK in one goroutine, then
// the packets in another, after a channel hand-off), so the counting
// needs no lock.
type connackGate struct {
	net.Conn
	open, closed        chan struct{}
	openOnce, closeOnce sync.Once
	header              []byte // the first packet's fixed header, as read so far
	left                int    // bytes of the first packet still to read, once its header is known
	passed              bool   // the first packet went through: wait for release
}

func newConnackGate(c net.Conn) *connackGate {
	return &connackGate{Conn: c, open: make(chan struct{}), closed: make(chan struct{})}
}

// release lets the packets after the first one through.
func (g *connackGate) release() { g.openOnce.Do(func() { close(g.open) }) }

func (g *connackGate) Close() error {
	g.closeOnce.Do(func() { close(g.closed) })
	return g.Conn.Close()
}

func (g *connackGate) Read(p []byte) (int, error) {
	if g.passed {
		select {
		case <-g.open:
		case <-g.closed:
			return 0, net.ErrClosed
		}
		return g.Conn.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if g.left == 0 {
		// The fixed header byte by byte: its type, then the remaining
		// length as a variable byte integer (MQTT 5 §1.5.5).
		n, err := g.Conn.Read(p[:1])
		if n == 1 {
			g.header = append(g.header, p[0])
			switch {
			case len(g.header) >= 2 && p[0]&0x80 == 0:
				g.left = remainingLength(g.header[1:])
				g.passed = g.left == 0
			case len(g.header) == 5:
				g.passed = true // malformed: paho reports it
			}
		}
		return n, err
	}
	n, err := g.Conn.Read(p[:min(len(p), g.left)])
	g.left -= n
	g.passed = g.left == 0
	return n, err
}

// remainingLength decodes a complete variable byte integer.
func remainingLength(b []byte) int {
	v, mul := 0, 1
	for _, c := range b {
		v += int(c&0x7f) * mul
		mul *= 128
	}
	return v
}
