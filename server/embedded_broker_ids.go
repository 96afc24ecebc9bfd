package main

// A workaround for a defect of mochi-mqtt v2.7.9 (its last release): it keeps
// one table of in-flight packet ids per session for both directions, while
// MQTT gives each side its own ids (3.1.1 §2.3.1: the client and the server
// assign them independently). So when a client's SUBSCRIBE or UNSUBSCRIBE
// reuses an id the broker happens to use for a QoS 1/2 message it is still
// delivering to that client, mochi refuses it with 0x91 "packet identifier
// in use" (sent even to 3.1.1 clients, for whom it is not a valid code); and
// an incoming QoS 1 PUBLISH with such an id silently drops the broker's
// record of its own unacknowledged message, which is then never redelivered.
// Both happen at once with a listener that acknowledges after commit, since
// its unacknowledged messages stay in flight longer.
//
// The hook gives such a packet a free id while mochi processes it, and puts
// the client's id back on the answer (SUBACK, UNSUBACK, PUBACK), which mochi
// writes from the same goroutine before it reads the next packet. Incoming
// QoS 2 flows are left alone: their id must stay the client's until PUBREL.

import (
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

type packetIDHook struct {
	mochi.HookBase
	mu  sync.Mutex
	alt map[*mochi.Client]map[uint16]uint16 // per client: substitute id -> the client's id, until the answer is written
}

func newPacketIDHook() *packetIDHook {
	return &packetIDHook{alt: map[*mochi.Client]map[uint16]uint16{}}
}

func (h *packetIDHook) ID() string { return "separate-packet-id-spaces" }

func (h *packetIDHook) Provides(b byte) bool {
	return b == mochi.OnPacketRead || b == mochi.OnPacketEncode || b == mochi.OnDisconnect
}

// OnPacketRead substitutes the id of a client's SUBSCRIBE, UNSUBSCRIBE or
// QoS 1 PUBLISH that clashes with one of the broker's own in-flight ids.
func (h *packetIDHook) OnPacketRead(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	switch pk.FixedHeader.Type {
	case packets.Subscribe, packets.Unsubscribe:
	case packets.Publish:
		if pk.FixedHeader.Qos != 1 {
			return pk, nil
		}
	default:
		return pk, nil
	}
	if _, clash := cl.State.Inflight.Get(pk.PacketID); !clash {
		return pk, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.alt[cl]
	if m == nil {
		m = map[uint16]uint16{}
		h.alt[cl] = m
	}
	// The broker counts its ids up from 1: take a free one from the top.
	for id := uint16(65535); id > 0; id-- {
		if _, used := cl.State.Inflight.Get(id); used {
			continue
		}
		if _, used := m[id]; used {
			continue
		}
		m[id] = pk.PacketID
		pk.PacketID = id
		break
	}
	return pk, nil
}

// OnPacketEncode puts the client's id back on the answer.
func (h *packetIDHook) OnPacketEncode(cl *mochi.Client, pk packets.Packet) packets.Packet {
	switch pk.FixedHeader.Type {
	case packets.Suback, packets.Unsuback, packets.Puback:
	default:
		return pk
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if orig, ok := h.alt[cl][pk.PacketID]; ok {
		delete(h.alt[cl], pk.PacketID)
		pk.PacketID = orig
	}
	return pk
}

// OnDisconnect forgets the client.
func (h *packetIDHook) OnDisconnect(cl *mochi.Client, _ error, _ bool) {
	h.mu.Lock()
	delete(h.alt, cl)
	h.mu.Unlock()
}
