package main

// The bench's MQTT clients (paho.mqtt.golang, as the server uses): the
// paced publisher standing for the devices, and the bare subscriber that
// is the reference for what Mosquitto and the client library take alone.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
)

// published is what a paced publisher run reports.
type published struct {
	start, end time.Time     // first Publish call; last one
	sent       int           // messages handed to paho
	maxLag     time.Duration // how far the publisher fell behind its schedule, at worst
}

func (p published) rate() float64 {
	if d := p.end.Sub(p.start); d > 0 && p.sent > 1 {
		return float64(p.sent-1) / d.Seconds()
	}
	return 0
}

// publishPaced publishes n messages at QoS 0, evenly spaced at rate per
// second: message i is due at start + i/rate, and goes as soon as it is
// due (late ones at once, never in a burst to catch up more than that).
// Message i carries sequence number firstSeq+i and its send time, taken
// just before Publish; topic(i) names its topic.
func publishPaced(ctx context.Context, c *benchmqtt.Client, rate, n int, firstSeq int64, topic func(i int) string) (published, error) {
	var p published
	period := time.Second / time.Duration(rate)
	var last mqtt.Token
	for i := range n {
		if i == 0 {
			p.start = time.Now()
		}
		due := p.start.Add(time.Duration(i) * period)
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return p, ctx.Err()
			case <-time.After(d):
			}
		}
		now := time.Now()
		p.maxLag = max(p.maxLag, now.Sub(due))
		last = c.Publish(topic(i), 0, false, payload(firstSeq+int64(i), now.UnixNano()))
		p.sent++
		p.end = now
		if i%256 == 0 {
			if err := c.LostErr(); err != nil {
				return p, err
			}
			if ctx.Err() != nil {
				return p, ctx.Err()
			}
		}
	}
	if last != nil {
		if err := benchmqtt.Wait(last, 10*time.Second); err != nil {
			return p, fmt.Errorf("publish: %w", err)
		}
	}
	return p, c.LostErr()
}

// subscribeReference subscribes c to filter and records every bench
// message it gets in rec: the broker's own PUBLISH → delivery latency.
func subscribeReference(c *benchmqtt.Client, filter string, rec *recorder) error {
	return benchmqtt.Wait(c.Subscribe(filter, 0, func(_ mqtt.Client, m mqtt.Message) {
		at := time.Now()
		var p struct{ Seq, Sent int64 }
		if json.Unmarshal(m.Payload(), &p) == nil {
			rec.record(p.Seq, p.Sent, at)
		}
	}), 10*time.Second)
}
