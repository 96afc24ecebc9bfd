package demo

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Options tune Run.
type Options struct {
	Logger   *slog.Logger
	Interval time.Duration // between telemetry rounds; 2s when zero
}

// Run connects each simulated device to the broker at addr (host:port,
// plain TCP) with its own paho client and runs them until ctx ends. It
// returns once every device has disconnected. The lamp speaks MQTT 5
// (paho.golang), the others MQTT 3.1.1.
func Run(ctx context.Context, addr string, opts Options) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	var wg sync.WaitGroup
	for _, d := range devices() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := opts.Logger.With(slog.String("device", d.id))
			if d.lamp {
				d.runV5(ctx, addr, opts.Interval, log) // answers commands on both conventions
				return
			}
			d.run(ctx, addr, opts.Interval, log)
		}()
	}
	wg.Wait()
}

// inbound is an action or command message handed from paho's router to
// the device.
type inbound struct {
	topic   string
	payload []byte
	// MQTT 5 request/response properties (the lamp's client only).
	responseTopic string
	corr          []byte
}

// run is one device's life: connect with a last will saying offline,
// then on each (re)connect subscribe to its actions and publish its
// retained availability, info and state; every interval publish
// telemetry; obey actions. All publishing happens here: paho's
// callbacks only hand events over through channels, because a callback
// that waits on a token stalls paho's router.
func (d *device) run(ctx context.Context, addr string, interval time.Duration, log *slog.Logger) {
	connected := make(chan struct{}, 1)
	actions := make(chan inbound, 32)
	opts := paho.NewClientOptions().
		AddBroker("tcp://" + addr).
		SetClientID("demo-" + d.id).
		SetCleanSession(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(5 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetWriteTimeout(5 * time.Second).
		SetOnConnectHandler(func(paho.Client) {
			select {
			case connected <- struct{}{}:
			default: // one pending notice is enough
			}
		}).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
			select {
			case actions <- inbound{topic: m.Topic(), payload: m.Payload()}:
			default:
				log.Warn("Demo device busy, action dropped", slog.String("topic", m.Topic()))
			}
		})
	offline, hasWill := d.availability(false)
	if hasWill {
		opts.SetBinaryWill(offline.topic, offline.payload, offline.qos, offline.retain)
	}
	c := paho.NewClient(opts)
	c.Connect() // with ConnectRetry the token completes only once connected: OnConnect tells us
	defer func() {
		// A clean disconnect sends no will: say offline first.
		if hasWill && c.IsConnectionOpen() {
			c.Publish(offline.topic, offline.qos, offline.retain, offline.payload).WaitTimeout(time.Second)
		}
		c.Disconnect(250)
	}()

	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-connected:
			if d.esp32 {
				continue // the ESP32 firmware only publishes its data topic
			}
			d.subscribe(ctx, c, log)
			online, _ := d.availability(true)
			d.publish(ctx, c, log, append([]message{online, d.infoMessage()}, d.stateMessages(time.Now())...))
		case now := <-t.C:
			if c.IsConnectionOpen() {
				d.publish(ctx, c, log, d.tick(now))
			}
		case a := <-actions:
			msgs := d.act(time.Now(), a.topic, a.payload)
			if len(msgs) == 0 {
				log.Info("Demo device ignored an action (unknown, or no change)", slog.String("topic", a.topic))
				continue
			}
			log.Info("Demo device obeyed an action", slog.String("topic", a.topic))
			d.publish(ctx, c, log, msgs)
		}
	}
}

// subscribe subscribes to the device's actions, which the default handler
// receives. A refusal is retried a few times: some brokers refuse a
// SUBSCRIBE whose packet id clashes with one of their own in flight.
func (d *device) subscribe(ctx context.Context, c paho.Client, log *slog.Logger) {
	var err error
	for range 3 {
		tok := c.Subscribe(d.actionFilter(), 1, nil)
		if !wait(ctx, tok) {
			err = tok.Error()
			continue
		}
		code := tok.(*paho.SubscribeToken).Result()[d.actionFilter()]
		if code <= 2 {
			return
		}
		err = fmt.Errorf("SUBACK return code %#x", code)
	}
	if ctx.Err() == nil {
		log.Warn("Demo device could not subscribe to its actions", slog.Any("error", err))
	}
}

// publish sends msgs in order, waiting for each QoS 1 acknowledgement so
// a retained state event is known to be on the broker.
func (d *device) publish(ctx context.Context, c paho.Client, log *slog.Logger, msgs []message) {
	for _, m := range msgs {
		tok := c.Publish(m.topic, m.qos, m.retain, m.payload)
		if !wait(ctx, tok) {
			if ctx.Err() != nil {
				return
			}
			log.Debug("Demo device publish failed", slog.String("topic", m.topic), slog.Any("error", tok.Error()))
			return
		}
	}
}

// wait waits for tok up to 5 seconds or until ctx ends, and reports
// whether it completed without error.
func wait(ctx context.Context, tok paho.Token) bool {
	select {
	case <-tok.Done():
		return tok.Error() == nil
	case <-ctx.Done():
		return false
	case <-time.After(5 * time.Second):
		return false
	}
}
