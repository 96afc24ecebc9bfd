package rules

import "time"

// Message is one received message handed to the rules once committed
// (stored in the history, or a device message), per broker in arrival
// order. The listener's rules worker calls Addon.Evaluate with them.
type Message struct {
	Topic    string
	Payload  []byte
	QoS      byte
	Retained bool
	Time     time.Time // when it was received
}
