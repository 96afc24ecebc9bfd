package listener

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// paho reads each packet whole into memory (packets.ReadPacket allocates
// the remaining length, up to 256 MB, then copies the payload), and with
// ordered delivery holds a few more in its goroutines; unordered, it
// starts a goroutine per message. A limit after paho (in the message
// handler) comes too late for either. limitConn sits under paho instead,
// between it and the socket: it parses each packet's fixed header as the
// bytes go by, and before a PUBLISH reaches paho it
//
//   - takes the message's bytes from the ingest byte budget, waiting (and
//     so not reading the socket: TCP then slows the broker) while the
//     budget is spent;
//   - cuts a payload over the broker's maximum: paho gets the same PUBLISH
//     (topic, QoS, packet id) with a short marker payload instead, and the
//     payload's bytes are discarded from the socket as they arrive,
//     without being kept. The handler recognises the marker, refuses the
//     message (counted, logged once per interval) and acknowledges it, so
//     that the broker does not send it again.
//
// On MQTT 5 a PUBLISH has properties between its packet id and its
// payload (a length, then the properties): they are counted with the
// payload, in the byte budget and against the maximum, and a refused
// message reaches paho without them (a properties length of 0).
//
// MQTT 3.1.1 has no way to ask the broker for smaller packets (MQTT 5's
// Maximum Packet Size), and brokers' own limits (Mosquitto's
// message_size_limit) are not ours to set, hence the stream rewrite.
// Other packets pass untouched; one larger than maxControlPacket (a
// broker sends none: acks are a few bytes) ends the connection.

// maxControlPacket bounds the packets that are not PUBLISH: a SUBACK has
// one byte per filter.
const maxControlPacket = 64 << 10

// markerSize is the payload paho gets for a refused message: the
// session's 16-byte nonce, then the refused payload's length.
const markerSize = 16 + 8

var errControlTooLarge = errors.New("listener: the broker sent a control packet larger than 64 KiB")

// limitConn is a broker connection as paho sees it; see above.
type limitConn struct {
	net.Conn
	ss  *session
	r   *bufio.Reader
	max int // largest payload let through

	v5 bool // PUBLISH packets have properties

	out  []byte // the current packet's header bytes, still to hand to paho
	pass int    // the current packet's bytes still to copy from r
	skip int    // a refused payload's bytes still to discard from r
	hdr  [5]byte
	buf  []byte // the current MQTT 5 PUBLISH's header, reused

	closeOnce sync.Once
	closed    chan struct{}
}

func newLimitConn(c net.Conn, ss *session, maxPayload int) *limitConn {
	return &limitConn{Conn: c, ss: ss, r: bufio.NewReaderSize(c, 32<<10), max: maxPayload, v5: ss.v5, closed: make(chan struct{})}
}

// Close also wakes a Read waiting for room in the byte budget.
func (c *limitConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (c *limitConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 && c.pass == 0 {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	if len(c.out) > 0 {
		n := copy(p, c.out)
		c.out = c.out[n:]
		return n, nil
	}
	n, err := c.r.Read(p[:min(len(p), c.pass)])
	c.pass -= n
	return n, err
}

// next reads the next packet's header and decides what paho gets of it.
func (c *limitConn) next() error {
	if c.skip > 0 {
		if _, err := c.r.Discard(c.skip); err != nil {
			return err
		}
		c.skip = 0
	}
	first, err := c.r.ReadByte()
	if err != nil {
		return err
	}
	rem, err := readRemainingLength(c.r)
	if err != nil {
		return err
	}
	hdr := appendRemainingLength(append(c.hdr[:0], first), rem)
	if first>>4 != packets.Publish {
		if rem > maxControlPacket {
			return errControlTooLarge
		}
		c.out, c.pass = hdr, rem
		return nil
	}
	qos := first >> 1 & 3
	idLen := 0
	if qos > 0 {
		idLen = 2
	}
	var tl [2]byte
	if qos == 3 || rem < len(tl)+idLen {
		return fmt.Errorf("listener: malformed PUBLISH from the broker (QoS %d, %d bytes)", qos, rem)
	}
	if _, err := io.ReadFull(c.r, tl[:]); err != nil {
		return err
	}
	topicLen := int(binary.BigEndian.Uint16(tl[:]))
	if c.v5 {
		return c.nextV5(first, hdr, rem, tl, topicLen, idLen)
	}
	payload := rem - len(tl) - topicLen - idLen
	if payload < 0 {
		return fmt.Errorf("listener: malformed PUBLISH from the broker (topic of %d bytes in a packet of %d)", topicLen, rem)
	}
	if payload <= c.max {
		if err := c.ss.reserve(topicLen+payload, 0, c.closed); err != nil {
			return err
		}
		c.out, c.pass = append(hdr, tl[:]...), rem-len(tl)
		return nil
	}
	// Refused: the topic and packet id are kept, the payload replaced.
	if err := c.ss.reserve(topicLen+markerSize, 0, c.closed); err != nil {
		return err
	}
	out := make([]byte, 0, len(hdr)+2+topicLen+idLen+markerSize)
	out = appendRemainingLength(append(out, first), len(tl)+topicLen+idLen+markerSize)
	out = append(out, tl[:]...)
	out = out[:len(out)+topicLen+idLen]
	if _, err := io.ReadFull(c.r, out[len(out)-topicLen-idLen:]); err != nil {
		return err
	}
	c.out, c.skip = c.ss.appendMarker(out, payload), payload
	return nil
}

// nextV5 is next for an MQTT 5 PUBLISH whose fixed header (hdr) and
// topic length were read: it reads the topic, packet id and properties
// length, so that what it reserves and refuses counts the properties.
func (c *limitConn) nextV5(first byte, hdr []byte, rem int, tl [2]byte, topicLen, idLen int) error {
	fixed := len(tl) + topicLen + idLen // before the properties length
	if rem < fixed+1 {
		return fmt.Errorf("listener: malformed PUBLISH from the broker (topic of %d bytes in a packet of %d)", topicLen, rem)
	}
	b := append(append(c.buf[:0], hdr...), tl[:]...)
	b = append(b, make([]byte, topicLen+idLen)...)
	if _, err := io.ReadFull(c.r, b[len(b)-topicLen-idLen:]); err != nil {
		return err
	}
	var id uint16
	if idLen > 0 {
		id = binary.BigEndian.Uint16(b[len(b)-idLen:])
	}
	start := len(b)
	props := 0 // the properties length, a variable byte integer kept as sent
	for shift := 0; ; shift += 7 {
		if shift == 28 {
			return errors.New("listener: malformed PUBLISH properties length from the broker")
		}
		x, err := c.r.ReadByte()
		if err != nil {
			return err
		}
		b = append(b, x)
		props |= int(x&0x7f) << shift
		if x&0x80 == 0 {
			break
		}
	}
	payload := rem - fixed - (len(b) - start) - props
	if payload < 0 {
		return fmt.Errorf("listener: malformed PUBLISH from the broker (properties of %d bytes in a packet of %d)", props, rem)
	}
	if props+payload <= c.max {
		if err := c.ss.reserve(topicLen+props+payload, id, c.closed); err != nil {
			return err
		}
		c.buf = b
		c.out, c.pass = b, props+payload
		return nil
	}
	// Refused: the topic and packet id are kept, the properties dropped
	// and the payload replaced.
	if err := c.ss.reserve(topicLen+markerSize, id, c.closed); err != nil {
		return err
	}
	body := b[len(hdr):start] // topic length, topic, packet id
	out := make([]byte, 0, len(hdr)+len(body)+1+markerSize)
	out = appendRemainingLength(append(out, first), len(body)+1+markerSize)
	out = append(append(out, body...), 0)
	c.buf = b
	c.out, c.skip = c.ss.appendMarker(out, props+payload), props+payload
	return nil
}

// readRemainingLength reads MQTT's variable-length integer (§2.2.3).
func readRemainingLength(r io.ByteReader) (int, error) {
	n, shift := 0, 0
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			return n, nil
		}
		shift += 7
	}
	return 0, errors.New("listener: malformed remaining length from the broker")
}

func appendRemainingLength(b []byte, n int) []byte {
	for {
		d := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}
