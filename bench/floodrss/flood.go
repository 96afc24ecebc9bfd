package main

// One case: a fresh server on a fresh database, subscribed to the flood
// topic, idle RSS read, then the flood with RSS sampled throughout.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchrpc"
)

const (
	benchDB   = "oim_bench_flood"
	idleFor   = 2 * time.Second        // settling before the idle RSS is read
	drainFor  = 5 * time.Second        // after the flood: the server still catching up is part of the peak
	rssEvery  = 100 * time.Millisecond // VmRSS sampling
	waitLimit = 30 * time.Second       // per publish token
)

// result is one server's figures.
type result struct {
	name              string
	idleKB, peakKB    int64 // VmRSS before the flood; VmHWM at its end (the true peak)
	sampledKB         int64 // the highest VmRSS sample, for comparison
	published         int64 // messages the publishers wrote to Mosquitto
	received, dropped float64
	stored            float64 // history rows at the end
	crashed           bool
}

func flood(ctx context.Context, o options, broker *benchmqtt.Mosquitto, s server, clientID string, log *slog.Logger) (result, error) {
	r := result{name: s.name}
	dbURL, cleanup, err := database(ctx, o)
	if err != nil {
		return r, err
	}
	defer cleanup()
	srv, err := benchproc.StartServer(ctx, s.bin, dbURL, s.args...)
	if err != nil {
		return r, err
	}
	defer srv.Stop()
	log.Info("Server started", slog.String("server", s.name), slog.String("addr", srv.Addr), slog.Int("pid", srv.PID()))
	c, err := benchrpc.Dial(srv.URL())
	if err != nil {
		return r, srv.Check(err)
	}
	defer c.Close()
	// Device discovery is opt-in (off for new brokers): the device flood
	// needs it on, as it was by default when the bench was written.
	if _, err := c.ListenWith(ctx, broker.Addr, clientID, "flood/#", 0, map[string]any{"device_discovery": o.device}); err != nil {
		return r, srv.Check(err)
	}
	time.Sleep(idleFor)
	if r.idleKB, err = benchproc.ProcStatusKB(srv.PID(), "VmRSS"); err != nil {
		return r, err
	}

	sampler := benchproc.StartRSSSampler(srv.PID(), rssEvery)
	payload := bytes.Repeat([]byte("f"), o.size)
	var published atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, o.publishers)
	deadline := time.Now().Add(o.duration)
	for p := range o.publishers {
		pub, err := benchmqtt.Connect(broker.URL(), fmt.Sprintf("%s-pub-%d", clientID, p))
		if err != nil {
			return r, err
		}
		defer pub.Close()
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				topic := fmt.Sprintf("flood/%d", p)
				if o.device {
					topic = fmt.Sprintf("device/flood-%d/telemetry/t", p)
				}
				if err := benchmqtt.Wait(pub.Publish(topic, 0, false, payload), waitLimit); err != nil {
					errs <- fmt.Errorf("publish: %w", err)
					return
				}
				published.Add(1)
			}
		})
	}
	log.Info("Flooding", slog.String("server", s.name), slog.Duration("for", o.duration))
	wg.Wait()
	close(errs)
	time.Sleep(drainFor)
	r.sampledKB = sampler.Stop()
	r.published = published.Load()
	if hwm, err := benchproc.ProcStatusKB(srv.PID(), "VmHWM"); err == nil {
		r.peakKB = hwm
	}
	if err := srv.Check(nil); err != nil {
		r.crashed = true
		return r, err
	}
	m := benchproc.ScrapeMetrics(srv.URL())
	r.received, r.dropped = m["messages_received_total"], m["messages_dropped_total"]
	if n, err := c.Call("mqtt.signal.history", "search_count", []any{[]any{}}, nil); err == nil {
		if v, ok := n.(int64); ok {
			r.stored = float64(v)
		}
	}
	for err := range errs {
		return r, fmt.Errorf("%w: %w", benchproc.ErrFunctional, err)
	}
	return r, nil
}

// database is a fresh database for one server: a SQLite file in a
// temporary directory, or a recreated PostgreSQL database.
func database(ctx context.Context, o options) (string, func(), error) {
	if o.db == "postgres" {
		u, err := benchproc.RecreateDatabase(ctx, o.pg, benchDB)
		return u, func() {}, err
	}
	dir, err := os.MkdirTemp("", "oim-bench-flood-")
	if err != nil {
		return "", nil, err
	}
	return "sqlite:" + filepath.Join(dir, "flood.db"), func() { os.RemoveAll(dir) }, nil
}
