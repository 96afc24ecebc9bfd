package main

// Step 1: latency at a steady rate. The devices' messages go out paced
// (not in bursts) and are received three ways at once:
//
//   - the reference: a bare paho subscriber to device/+/telemetry/#;
//   - the WebSocket path: one /websocket client subscribed to
//     mqtt_realtime (the server stores the message, then notifies);
//   - the poll path: DeviceProxy-style /hw_drivers/event listeners, one
//     per device on the first -pollers devices (the server ingests the
//     device message, then notifies the event on iot_device).
//
// One poll returns one event, so a single listener on every device would
// make a round trip per message, 1,000 a second, and measure its own
// queue. A browser widget listens to one device; so does each poller here,
// with the whole load still arriving: the poll path is measured on the
// pollers' share of the messages (-pollers / -devices of them, 10% by
// default, 20 messages a second per device).

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// latencyResult is step 1's figures.
type latencyResult struct {
	pub     published
	paths   []pathResult // reference, websocket, poll
	polls   int64        // /hw_drivers/event requests made
	pollErr string       // the last failed poll, if any
	usage   usage        // CPU over the measured publishing and the drain
	wall    time.Duration
	peakRSS int64 // kB
	metrics map[string]float64
	dropped bool // Mosquitto dropped messages for the server's client
}

// deviceID is device k of this run.
func (b *bench) deviceID(k int) string { return fmt.Sprintf("b%s-%02d", b.run, k) }

func (b *bench) latencyStep(ctx context.Context) error {
	o := b.o
	warm := int(o.warmup.Seconds() * float64(o.rate))
	n := int(o.duration.Seconds() * float64(o.rate))
	lo := int64(warm)
	topics := make([]string, o.devices)
	for k := range topics {
		topics[k] = "device/" + b.deviceID(k) + "/telemetry/temp"
	}
	// Message i goes to device i mod devices; the pollers listen to
	// devices 0..pollers-1.
	pollExpected := int64(0)
	for i := warm; i < warm+n; i++ {
		if i%o.devices < o.pollers {
			pollExpected++
		}
	}
	ref := newRecorder("paho reference (Mosquitto alone)", lo, n)
	ws := newRecorder("websocket mqtt_realtime", lo, n)
	polled := newRecorder("/hw_drivers/event long poll", lo, n)

	pub, err := benchmqtt.Connect(b.broker.URL(), "oim-bench-pub-"+b.run)
	if err != nil {
		return err
	}
	defer pub.Close()
	sub, err := benchmqtt.Connect(b.broker.URL(), "oim-bench-ref-"+b.run)
	if err != nil {
		return err
	}
	defer sub.Close()
	if err := subscribeReference(sub, "device/+/telemetry/#", ref); err != nil {
		return fmt.Errorf("reference subscribe: %w", err)
	}

	sock, err := dialSocket(ctx, b.srv.URL(), b.web.sessionID(), 0, func(m wireNote, at time.Time) {
		if m.seq >= 0 && m.sent > 0 {
			ws.record(m.seq, m.sent, at)
		}
	})
	if err != nil {
		return err
	}
	var readers sync.WaitGroup
	readers.Go(sock.read)
	defer func() {
		sock.close()
		readers.Wait()
	}()
	if err := b.awaitSockets(ctx, pub, []*socket{sock}); err != nil {
		return err
	}

	pctx, stopPolls := context.WithCancel(ctx)
	var pollers sync.WaitGroup
	stats := make([]pollStats, o.pollers)
	for k := range o.pollers {
		pollers.Go(func() {
			pollDevice(pctx, b.web, fmt.Sprintf("bench-%s-listener-%d", b.run, k), b.deviceID(k), polled, &stats[k])
		})
	}
	defer func() {
		stopPolls()
		pollers.Wait()
	}()

	topic := func(i int) string { return topics[i%o.devices] }
	b.log.Info("Latency: warm-up", slog.Int("messages", warm), slog.Int("rate", o.rate))
	if _, err := publishPaced(ctx, pub, o.rate, warm, 0, topic); err != nil {
		return err
	}
	b.log.Info("Latency: measuring", slog.Int("messages", n), slog.Int("rate", o.rate), slog.Duration("duration", o.duration))
	rss := benchproc.StartRSSSampler(b.srv.PID(), rssEvery)
	before := b.snapshot()
	p, err := publishPaced(ctx, pub, o.rate, n, lo, func(i int) string { return topic(warm + i) })
	if err != nil {
		rss.Stop()
		return err
	}
	expect := []struct {
		r    *recorder
		want int64
	}{{ref, int64(n)}, {ws, int64(n)}, {polled, pollExpected}}
	err = b.awaitStragglers(ctx, 20*time.Millisecond, func() (int64, bool) {
		total, complete := int64(0), true
		for _, e := range expect {
			c := e.r.count()
			total += c
			complete = complete && c >= e.want
		}
		return total, complete
	})
	if err != nil {
		rss.Stop()
		return err
	}
	res := &latencyResult{pub: p, usage: b.snapshot().Minus(before), peakRSS: rss.Stop(), metrics: benchproc.ScrapeMetrics(b.srv.URL()),
		dropped: b.broker.DroppedFor("oim-bench-bus-" + b.run)}
	res.wall = time.Since(p.start)
	res.paths = []pathResult{ref.result(int64(n)), ws.result(int64(n)), polled.result(pollExpected)}
	for i := range stats {
		res.polls += stats[i].polls.Load()
		if e := stats[i].lastErr.Load(); e != nil {
			res.pollErr = (*e).Error()
		}
	}
	b.latency = res
	for _, r := range res.paths {
		if r.expected > 0 && r.received == 0 {
			b.fail("latency: %s received none of %d messages", r.name, r.expected)
		}
	}
	if res.pollErr != "" {
		b.log.Warn("A poll failed", slog.String("error", res.pollErr))
	}
	return nil
}

// alive reports a server or Mosquitto that exited.
func (b *bench) alive() error {
	if err := b.broker.Alive(); err != nil {
		return err
	}
	return b.srv.Check(nil)
}

// awaitSockets publishes a probe message (no device topic) every 250 ms
// until every socket received a note: their subscriptions are live.
func (b *bench) awaitSockets(ctx context.Context, pub *benchmqtt.Client, socks []*socket) error {
	probe := "oim-bench/" + b.run + "/probe"
	err := benchproc.Poll(ctx, 60*time.Second, 250*time.Millisecond, func() (bool, error) {
		for _, s := range socks {
			if s.notes.Load() == 0 {
				return false, benchmqtt.Wait(pub.Publish(probe, 0, false, payload(-1, time.Now().UnixNano())), 10*time.Second)
			}
		}
		return true, nil
	})
	if err != nil {
		ready := 0
		for _, s := range socks {
			if s.notes.Load() > 0 {
				ready++
			}
		}
		return fmt.Errorf("%d of %d WebSocket clients received a probe: %w", ready, len(socks), err)
	}
	return nil
}
