package listener

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	packets5 "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// streamConn is a net.Conn reading a fixed byte stream: what a broker
// sent, as limitConn sees it under paho.
type streamConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *streamConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *streamConn) Close() error               { return nil }

func publishBytes(t *testing.T, topic string, qos byte, id uint16, payload []byte) []byte {
	t.Helper()
	p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	p.TopicName, p.Qos, p.MessageID, p.Payload = topic, qos, id, payload
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLimitConn reads broker byte streams through limitConn with paho's
// own packet reader: packets within the limit arrive byte for byte,
// a PUBLISH over it arrives as the same PUBLISH with the session's marker
// payload (its own bytes skipped, the next packet intact), and what no
// broker sends (a huge control packet, a malformed length or QoS) ends
// the connection. Each PUBLISH takes its bytes from the byte budget.
func TestLimitConn(t *testing.T) {
	const max = 100
	big := bytes.Repeat([]byte("y"), 5000)
	suback := []byte{packets.Suback << 4, 3, 0, 1, 0}
	cases := []struct {
		name    string
		stream  [][]byte
		want    []string // per packet: "publish TOPIC QOS ID PAYLOAD-or-refused:N", or "other"
		err     string   // the error after the packets
		reserve int      // bytes taken from the budget
	}{
		{"within the limit", [][]byte{publishBytes(t, "a/b", 0, 0, []byte("hello")), publishBytes(t, "a/c", 1, 7, bytes.Repeat([]byte("z"), max)), suback},
			[]string{"publish a/b 0 0 hello", "publish a/c 1 7 " + strings.Repeat("z", max), "other"}, "EOF", 3 + 5 + 3 + max + 2*orderedOverhead},
		{"over the limit", [][]byte{publishBytes(t, "cam/1", 1, 9, big), publishBytes(t, "cam/2", 0, 0, []byte("next")), publishBytes(t, "cam/3", 2, 10, big)},
			[]string{"publish cam/1 1 9 refused:5000", "publish cam/2 0 0 next", "publish cam/3 2 10 refused:5000"}, "EOF", 3*5 + 2*markerSize + 4 + 3*orderedOverhead},
		{"empty payload", [][]byte{publishBytes(t, "x", 0, 0, nil)}, []string{"publish x 0 0 "}, "EOF", 1 + orderedOverhead},
		{"control packet too large", [][]byte{{packets.Suback << 4, 0x80, 0x80, 0x08}}, nil, "larger than 64 KiB", 0},
		{"malformed length", [][]byte{{packets.Publish << 4, 0xff, 0xff, 0xff, 0xff, 0x01}}, nil, "malformed remaining length", 0},
		{"QoS 3", [][]byte{{packets.Publish<<4 | 3<<1, 4, 0, 1, 'a', 'b'}}, nil, "malformed PUBLISH", 0},
		{"topic longer than the packet", [][]byte{{packets.Publish << 4, 3, 0, 9, 'a'}}, nil, "malformed PUBLISH", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Service{gate: newByteGate(1 << 20)}
			ss := &session{d: &daemon{s: s}, done: make(chan struct{}), overhead: orderedOverhead}
			ss.nonce[0] = 42
			lc := newLimitConn(&streamConn{r: bytes.NewReader(bytes.Join(c.stream, nil))}, ss, max)
			var got []string
			var err error
			for {
				var p packets.ControlPacket
				if p, err = packets.ReadPacket(lc); err != nil {
					break
				}
				pub, ok := p.(*packets.PublishPacket)
				if !ok {
					got = append(got, "other")
					continue
				}
				body := string(pub.Payload)
				if n, refused := ss.refusedSize(pub.Payload); refused {
					body = "refused:" + strconv.Itoa(n)
				}
				got = append(got, "publish "+pub.TopicName+" "+strconv.Itoa(int(pub.Qos))+" "+strconv.Itoa(int(pub.MessageID))+" "+body)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("packets:\n got %q\nwant %q", got, c.want)
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want %q", err, c.err)
			}
			if u := s.gate.size(); u != int64(c.reserve) || ss.unowned != c.reserve {
				t.Errorf("reserved %d (session %d), want %d", u, ss.unowned, c.reserve)
			}
		})
	}
}

func publishV5Bytes(t *testing.T, topic string, qos byte, id uint16, props *packets5.Properties, payload []byte) []byte {
	t.Helper()
	p := &packets5.Publish{Topic: topic, QoS: qos, PacketID: id, Properties: props, Payload: payload}
	var b bytes.Buffer
	if _, err := p.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLimitConnV5 reads MQTT 5 byte streams through limitConn with
// paho.golang's packet reader: a PUBLISH's properties pass with it, and
// count with its payload in the byte budget and against the maximum; a
// refused one arrives with the marker payload and no properties, the next
// packet intact.
func TestLimitConnV5(t *testing.T) {
	const max = 100
	props := &packets5.Properties{ContentType: "application/json", CorrelationData: []byte{1, 2},
		User: []packets5.User{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}}
	propsLen := len(props.Pack(packets5.PUBLISH))
	bigProps := &packets5.Properties{User: []packets5.User{{Key: "k", Value: strings.Repeat("v", 200)}}}
	cases := []struct {
		name    string
		stream  [][]byte
		want    []string
		reserve int
	}{
		{"within the limit", [][]byte{publishV5Bytes(t, "a/b", 1, 7, props, []byte("hello")), publishV5Bytes(t, "a/c", 0, 0, nil, []byte("x"))},
			[]string{"publish a/b 1 7 hello props application/json [a=1 a=2]", "publish a/c 0 0 x props  []"}, 3 + propsLen + 5 + 3 + 1 + 2*orderedOverhead},
		{"payload over the limit", [][]byte{publishV5Bytes(t, "cam/1", 1, 9, props, bytes.Repeat([]byte("y"), 5000)), publishV5Bytes(t, "cam/2", 0, 0, nil, []byte("next"))},
			[]string{"publish cam/1 1 9 refused:" + strconv.Itoa(5000+propsLen) + " props  []", "publish cam/2 0 0 next props  []"}, 5 + markerSize + 5 + 4 + 2*orderedOverhead},
		{"properties over the limit", [][]byte{publishV5Bytes(t, "p", 2, 3, bigProps, []byte("small"))},
			[]string{"publish p 2 3 refused:" + strconv.Itoa(5+len(bigProps.Pack(packets5.PUBLISH))) + " props  []"}, 1 + markerSize + orderedOverhead},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Service{gate: newByteGate(1 << 20)}
			ss := &session{d: &daemon{s: s}, done: make(chan struct{}), overhead: orderedOverhead, v5: true}
			ss.nonce[0] = 42
			lc := newLimitConn(&streamConn{r: bytes.NewReader(bytes.Join(c.stream, nil))}, ss, max)
			var got []string
			var err error
			for {
				var p *packets5.ControlPacket
				if p, err = packets5.ReadPacket(lc); err != nil {
					break
				}
				pub := p.Content.(*packets5.Publish)
				body := string(pub.Payload)
				if n, refused := ss.refusedSize(pub.Payload); refused {
					body = "refused:" + strconv.Itoa(n)
				}
				var users []string
				ct := ""
				if pub.Properties != nil {
					ct = pub.Properties.ContentType
					for _, u := range pub.Properties.User {
						users = append(users, u.Key+"="+u.Value)
					}
				}
				got = append(got, fmt.Sprintf("publish %s %d %d %s props %s %v", pub.Topic, pub.QoS, pub.PacketID, body, ct, users))
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("packets:\n got %q\nwant %q", got, c.want)
			}
			if err == nil || !strings.Contains(err.Error(), "EOF") {
				t.Errorf("error %v, want EOF", err)
			}
			if used := s.gate.size(); used != int64(c.reserve) {
				t.Errorf("reserved %d bytes, want %d", used, c.reserve)
			}
			// The handler takes exactly what each PUBLISH reserved.
			for range c.want {
				m := message{qos: 0}
				ss.mu.Lock()
				if len(ss.sizes) > 0 {
					m.packetID = ss.sizes[0].id
				}
				ss.mu.Unlock()
				if _, ok := ss.take(&m); !ok {
					t.Fatal("take failed")
				}
			}
			if ss.unowned != 0 || len(ss.sizes) != 0 {
				t.Errorf("after taking every message: %d bytes unowned, %d reservations", ss.unowned, len(ss.sizes))
			}
		})
	}
}
