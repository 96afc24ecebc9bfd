package main

// Part (a): ingest with 1, 2, 3 instances on a broker with a shared
// group. Each case publishes -n numbered QoS 1 messages as fast as the
// PUBACK window lets it (Mosquitto queues what the instances have not
// taken yet) and the clock runs from the first publish to the last row
// committed, so the figure is the cluster's ingest rate.

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// sharedGroup starts the broker record's shared_group in part (a); the
// case number ends it.
const sharedGroup = "bench"

type ingestResult struct {
	instances int
	n         int64
	elapsed   time.Duration
	split     []int64 // messages each instance received
	cpu       benchproc.Usage
}

func (r ingestResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (b *bench) runIngest(ctx context.Context) error {
	for round := range b.o.rounds {
		sizes := slices.Clone(b.o.instances)
		if round%2 == 1 {
			slices.Reverse(sizes) // load from other processes falls on every size alike
		}
		for _, n := range sizes {
			r, err := b.ingestCase(ctx, n)
			if err != nil {
				return fmt.Errorf("ingest with %d instances: %w", n, err)
			}
			b.ingest = append(b.ingest, r)
			b.log.Info("Ingest case done", slog.Int("instances", n), slog.Float64("msg_per_s", r.rate()))
		}
	}
	return nil
}

func (b *bench) ingestCase(ctx context.Context, n int) (ingestResult, error) {
	r := ingestResult{instances: n, n: int64(b.o.n)}
	c, err := b.startCluster(ctx, n)
	if err != nil {
		return r, err
	}
	defer c.close()
	// A group and client id of their own per case: the members'
	// persistent sessions of an earlier case (client id, a dash, an
	// instance id) stay in their group at Mosquitto, offline, and would
	// take their share of this case's messages.
	b.cases++
	group := fmt.Sprintf("%s%d", sharedGroup, b.cases)
	clientID := fmt.Sprintf("oim-bench-shared-%d", b.cases)
	if err := c.listen(ctx, 0, clientID, "bench/#", map[string]any{"shared_group": group}); err != nil {
		return r, err
	}
	pub, err := benchmqtt.Connect(b.broker.URL(), "bench-cluster-publisher")
	if err != nil {
		return r, err
	}
	defer pub.Close()
	// Every instance is in the group before the clock starts.
	err = benchproc.Poll(ctx, 30*time.Second, 50*time.Millisecond, func() (bool, error) {
		if err := benchmqtt.Wait(pub.Publish("bench/warm", 1, false, "warm"), 10*time.Second); err != nil {
			return false, err
		}
		return !slices.Contains(c.received(), 0), nil
	})
	if err != nil {
		return r, fmt.Errorf("warm-up: not every instance receives from the group: %w", err)
	}
	before := c.received()
	use := benchproc.Usage{Bench: benchproc.SelfCPU(), Postgres: benchproc.PostgresCPU(benchDB)}
	for _, pid := range c.serverPIDs() {
		use.Server += benchproc.ProcCPU(pid)
	}

	start := time.Now()
	var sent atomic.Int64
	pubErr := make(chan error, 1)
	go func() { pubErr <- publishNumbers(ctx, pub.Client, "bench/x", 0, r.n, b.o.window, 0, &sent) }()
	if err := c.waitStored(ctx, "bench/x", r.n, b.o.timeout); err != nil {
		return r, err
	}
	r.elapsed = time.Since(start)
	if err := <-pubErr; err != nil {
		return r, err
	}
	after := benchproc.Usage{Bench: benchproc.SelfCPU(), Postgres: benchproc.PostgresCPU(benchDB)}
	for _, pid := range c.serverPIDs() {
		after.Server += benchproc.ProcCPU(pid)
	}
	r.cpu = after.Minus(use)
	for i, v := range c.received() {
		r.split = append(r.split, v-before[i])
	}
	if err := c.alive(); err != nil {
		return r, err
	}
	return r, c.checkStream(ctx, "bench/x", r.n)
}

// waitStored polls until total rows are stored under prefix; no progress
// for 30 s, or limit, is a functional failure.
func (c *cluster) waitStored(ctx context.Context, prefix string, total int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last, lastAt := int64(-1), time.Now()
	for {
		n, err := c.stored(ctx, prefix)
		if err != nil {
			return err
		}
		if n >= total {
			return nil
		}
		if n != last {
			last, lastAt = n, time.Now()
		}
		if err := c.alive(); err != nil {
			return err
		}
		if time.Since(lastAt) > 30*time.Second || time.Now().After(deadline) {
			return fmt.Errorf("%w: %d of %d stored under %s, no progress", benchproc.ErrFunctional, n, total, prefix)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// publishNumbers publishes the numbers from..to-1 at QoS 1 on topic,
// at most window unacknowledged, and at most rate a second when rate > 0
// (until ctx ends, then it returns nil). sent counts the PUBACKs.
func publishNumbers(ctx context.Context, c mqtt.Client, topic string, from, to int64, window, rate int, sent *atomic.Int64) error {
	toks := make([]mqtt.Token, 0, window)
	flush := func(keep int) error {
		for len(toks) > keep {
			if err := benchmqtt.Wait(toks[0], 30*time.Second); err != nil {
				return fmt.Errorf("publish: %w", err)
			}
			toks = toks[1:]
			sent.Add(1)
		}
		return nil
	}
	start := time.Now()
	for i := from; i < to; i++ {
		if rate > 0 {
			due := start.Add(time.Duration(i-from) * time.Second / time.Duration(rate))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return flush(0)
				case <-time.After(d):
				}
			}
		}
		if ctx.Err() != nil {
			return flush(0)
		}
		toks = append(toks, c.Publish(topic, 1, false, fmt.Sprintf("%09d", i)))
		if err := flush(window - 1); err != nil {
			return err
		}
	}
	return flush(0)
}
