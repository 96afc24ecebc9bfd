package main

// The bench's own MQTT clients (paho.mqtt.golang, as the server uses):
// the publisher every case shares, and the bare counting subscriber that
// is the reference for what the client library can take.

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
)

var clientSeq atomic.Int64

// connect opens a client (see benchmqtt.Connect) with an id starting with
// prefix and unique to this run.
func connect(brokerURL, prefix string) (*benchmqtt.Client, error) {
	return benchmqtt.Connect(brokerURL, fmt.Sprintf("%s-%d-%d", prefix, clientSeqBase, clientSeq.Add(1)))
}

// clientSeqBase keeps client ids apart between two runs on one broker.
var clientSeqBase = time.Now().UnixNano() % 1_000_000

// published is what a publisher run reports.
type published struct {
	start, end time.Time // first Publish call; last token completed
	sent       int
	err        error
}

// flow limits a publisher end to end: it publishes message i only once
// consumed() (messages received, or rows committed) is above i-window.
// Mosquitto queues at most max_queued_messages (1000 by default) QoS 1
// messages per subscriber beyond the 20 in flight, and drops the rest: a
// publisher that outruns the subscriber by more loses messages in the
// broker, whoever the subscriber is. The window stays well below 1020
// because a committed row is acknowledged to Mosquitto a little later
// (the server's acker, the network, Mosquitto's own loop): at 800, runs on
// SQLite lost a few hundred messages in the broker; at 300 and 500, none.
type flow struct {
	consumed func() int64
	window   int
}

// publish sends n messages of size bytes under prefix/sensor/<i%1000> as
// fast as the broker takes them (and, with a flow, as the subscriber
// keeps up). At most window tokens are outstanding: at QoS 1 that is the
// PUBACKs awaited, at QoS 0 the writes queued in paho.
func publish(ctx context.Context, c *benchmqtt.Client, prefix string, qos byte, n, size, window int, fl *flow) published {
	topics := make([]string, 1000)
	for i := range topics {
		topics[i] = prefix + "/sensor/" + strconv.Itoa(i)
	}
	tokens := make([]mqtt.Token, window)
	var p published
	for i := range n {
		if i%1024 == 0 && ctx.Err() != nil {
			p.err = ctx.Err()
			return p
		}
		for fl != nil && int64(i)-fl.consumed() >= int64(fl.window) {
			if ctx.Err() != nil {
				p.err = ctx.Err()
				return p
			}
			time.Sleep(500 * time.Microsecond)
		}
		slot := i % window
		if t := tokens[slot]; t != nil {
			if err := benchmqtt.Wait(t, 30*time.Second); err != nil {
				p.err = fmt.Errorf("publish %d: %w", i-window, err)
				return p
			}
		}
		if i == 0 {
			p.start = time.Now()
		}
		tokens[slot] = c.Publish(topics[i%len(topics)], qos, false, payload(i, size))
		p.sent++
	}
	for k := range window {
		if t := tokens[(n+k)%window]; t != nil {
			if err := benchmqtt.Wait(t, 30*time.Second); err != nil {
				p.err = fmt.Errorf("publish: %w", err)
				return p
			}
		}
	}
	p.end = time.Now()
	return p
}

// payload is a JSON object of exactly size bytes carrying the sequence
// number, like a small sensor reading.
func payload(seq, size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"pad":"`...)
	for len(b) < size-2 {
		b = append(b, 'x')
	}
	b = append(b, `"}`...)
	if len(b) > size { // too small for the JSON frame: plain digits
		b = strconv.AppendInt(b[:0], int64(seq), 10)
		for len(b) < size {
			b = append(b, ' ')
		}
	}
	return b
}

// counter is the reference subscriber's handler: it counts and notes the
// time of the last message, nothing else.
type counter struct {
	n    atomic.Int64
	last atomic.Int64 // UnixNano of the last message
}

func (c *counter) handle(mqtt.Client, mqtt.Message) {
	c.n.Add(1)
	c.last.Store(time.Now().UnixNano())
}
