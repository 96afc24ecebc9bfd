package iot

import (
	"bytes"
	"strings"
)

// The availability payloads this package publishes (retained, so a late
// subscriber knows the state).
const (
	PayloadOnline  = "online"
	PayloadOffline = "offline"
)

var (
	onlineWords  = []string{"online", "true", "1", "on", "up", "connected", "available", "alive", "ready"}
	offlineWords = []string{"offline", "false", "0", "off", "down", "disconnected", "unavailable", "dead", "lost"}
	// stateKeys hold the state in a JSON object payload.
	stateKeys = []string{"state", "status", "availability", "online", "connected", "available"}
)

// ParseAvailability reads an availability payload: online/offline,
// true/false, 1/0 and their usual synonyms in any case, as text or JSON,
// or a JSON object holding one under state, status, availability,
// online, connected or available ({"state": "online"}). ok is false for
// anything else.
func ParseAvailability(payload []byte) (online, ok bool) {
	return availability(decode(bytes.TrimSpace(payload)), 0)
}

func availability(v any, depth int) (online, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case float64:
		switch x {
		case 1:
			return true, true
		case 0:
			return false, true
		}
	case string:
		w := strings.ToLower(strings.TrimSpace(x))
		for _, s := range onlineWords {
			if w == s {
				return true, true
			}
		}
		for _, s := range offlineWords {
			if w == s {
				return false, true
			}
		}
	case map[string]any:
		if depth > 0 {
			return false, false
		}
		for _, k := range stateKeys {
			if y, present := x[k]; present {
				return availability(y, depth+1)
			}
		}
	}
	return false, false
}

// OnlineMessage is what device id publishes on connecting: a retained
// "online" on its availability topic.
func OnlineMessage(p Patterns, id string) (Publish, error) {
	return availabilityMessage(p, id, PayloadOnline)
}

// WillMessage is the last will device id leaves with the broker: a
// retained "offline" on its availability topic, which the broker
// publishes when the device vanishes without disconnecting.
func WillMessage(p Patterns, id string) (Publish, error) {
	return availabilityMessage(p, id, PayloadOffline)
}

func availabilityMessage(p Patterns, id, payload string) (Publish, error) {
	topic, err := p.AvailabilityTopic(id)
	if err != nil {
		return Publish{}, err
	}
	return Publish{Topic: topic, Payload: []byte(payload), QoS: 1, Retain: true}, nil
}
