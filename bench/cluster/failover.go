package main

// Part (b): failover. Three instances, one broker with a persistent
// session (fixed client id, clean_session off) and a QoS 1 stream at
// -rate. Each round SIGKILLs the broker's owner and times, from the
// kill, the ownership seen moving to a live instance and the first row
// stored after it; the killed instance is then restarted, so each kill
// finds three instances. At the end every published number must be
// stored exactly once.

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// failoverInstances is the cluster size of part (b).
const failoverInstances = 3

// settle is how long after a kill the dead owner's last commit may still
// land.
const settle = 50 * time.Millisecond

type failoverResult struct {
	owner, store []time.Duration // kill -> new owner seen, kill -> first row stored after the kill
	published    int64
}

func (b *bench) runFailover(ctx context.Context) error {
	res := &failoverResult{}
	b.failover = res
	c, err := b.startCluster(ctx, failoverInstances)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.listen(ctx, 0, "oim-bench-failover", "fail/#", nil); err != nil {
		return err
	}
	pub, err := benchmqtt.Connect(b.broker.URL(), "bench-failover-publisher")
	if err != nil {
		return err
	}
	defer pub.Close()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var sent atomic.Int64
	pubErr := make(chan error, 1)
	go func() { pubErr <- publishNumbers(pctx, pub.Client, "fail/x", 0, 1<<40, b.o.window, b.o.rate, &sent) }()

	for k := range b.o.kills {
		if err := c.steady(ctx); err != nil {
			return fmt.Errorf("before kill %d: %w", k+1, err)
		}
		dOwner, dStore, err := c.killOwner(ctx)
		if err != nil {
			return fmt.Errorf("kill %d: %w", k+1, err)
		}
		res.owner = append(res.owner, dOwner)
		res.store = append(res.store, dStore)
		b.log.Info("Failover", slog.Int("kill", k+1), slog.Duration("owner", dOwner), slog.Duration("stored", dStore))
	}
	stop()
	if err := <-pubErr; err != nil {
		return err
	}
	res.published = sent.Load()
	if err := c.waitStored(ctx, "fail/x", res.published, b.o.timeout); err != nil {
		return err
	}
	time.Sleep(time.Second) // a late duplicate would land now
	return c.checkStream(ctx, "fail/x", res.published)
}

// steady waits until the instances are all live, the broker owned and
// rows being stored.
func (c *cluster) steady(ctx context.Context) error {
	var before int64 = -1
	return benchproc.Poll(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		live, err := c.liveInstances(ctx)
		if err != nil {
			return false, err
		}
		o, err := c.owner(ctx)
		if err != nil {
			return false, err
		}
		n, err := c.stored(ctx, "fail/x")
		if err != nil {
			return false, err
		}
		moving := before >= 0 && n > before
		before = n
		return live == failoverInstances && o >= 0 && moving, c.alive()
	})
}

// killOwner SIGKILLs the owner, times the failover and restarts the
// killed instance.
func (c *cluster) killOwner(ctx context.Context) (dOwner, dStore time.Duration, err error) {
	victim, err := c.owner(ctx)
	if err != nil || victim < 0 {
		return 0, 0, fmt.Errorf("no owner to kill: %v", err)
	}
	c.procs[victim].Kill()
	killed := time.Now()
	c.procs[victim] = nil
	// A COMMIT the owner sent just before it died still completes in its
	// backend: the count is final for the dead owner once that is done,
	// long before a new owner can have connected and stored.
	time.Sleep(settle)
	atKill, err := c.stored(ctx, "fail/x")
	if err != nil {
		return 0, 0, err
	}
	err = benchproc.Poll(ctx, 30*time.Second, pollEvery, func() (bool, error) {
		if dOwner == 0 {
			o, err := c.owner(ctx)
			if err != nil {
				return false, err
			}
			if o >= 0 {
				dOwner = time.Since(killed)
			}
		}
		if dStore == 0 {
			n, err := c.stored(ctx, "fail/x")
			if err != nil {
				return false, err
			}
			if n > atKill {
				dStore = time.Since(killed)
			}
		}
		return dOwner > 0 && dStore > 0, c.alive()
	})
	if err != nil {
		return 0, 0, fmt.Errorf("%w: no new owner storing within 30 s of the kill: %w", benchproc.ErrFunctional, err)
	}
	if _, err := c.start(ctx); err != nil {
		return 0, 0, err
	}
	return dOwner, dStore, nil
}
