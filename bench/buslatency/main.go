// Command buslatency measures the live paths of issue 4 on the real
// server binary, PostgreSQL and a Mosquitto it starts:
//
//  1. latency at a steady rate (1,000 msg/s): simulated devices publish
//     telemetry carrying their send time; measured per message from the
//     PUBLISH to the mqtt_realtime notification reaching a /websocket
//     client, and to /hw_drivers/event returning the device event. A bare
//     paho subscriber on the same Mosquitto, in the same run, is the
//     reference: what the broker and the client library take alone.
//  2. fan-out: 1,000 /websocket clients subscribed to mqtt_realtime while
//     messages arrive at fixed rates: notifications delivered per second,
//     per-client loss, delivery latency, the server's RSS and CPU.
//
// Targets are printed as met or not met; the command exits non-zero only
// on functional failures (a path that received nothing, a crash, setup
// errors). See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

const (
	benchDB   = "oim_bench_bus"        // PostgreSQL database the run recreates
	rssEvery  = 100 * time.Millisecond // VmRSS sampling
	idleGrace = 3 * time.Second        // nothing new this long after the last publish: the rest is lost
)

type options struct {
	pg        string
	mosquitto string
	bin       string

	rate     int           // latency step: messages per second, all devices together
	duration time.Duration // latency step: measured time
	warmup   time.Duration // latency step: published first, not measured
	devices  int           // latency step: devices the messages are spread over
	pollers  int           // latency step: /hw_drivers/event listeners, one device each

	clients        int           // fan-out: WebSocket clients
	sessions       int           // fan-out: logged-in sessions the clients share
	fanoutRates    []int         // fan-out: one step per rate, messages per second
	fanoutDuration time.Duration // fan-out: per step

	targetP99 time.Duration
}

func main() {
	def := benchproc.DefaultPG()
	var (
		o     options
		rates string
		quick bool
	)
	flag.StringVar(&o.pg, "pg", def, "PostgreSQL URL of a maintenance database (default $ODOO_IOT_MQTT_TEST_PG); the bench creates "+benchDB+" next to it")
	flag.StringVar(&o.mosquitto, "mosquitto", "/usr/sbin/mosquitto", "Mosquitto binary, started on a free port")
	flag.StringVar(&o.bin, "bin", "", "server binary to run instead of building ./server from this checkout")
	flag.IntVar(&o.rate, "rate", 1000, "latency: messages per second (paced evenly), all devices together")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "latency: measured publishing time")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "latency: publishing time before the measure (devices get created)")
	flag.IntVar(&o.devices, "devices", 50, "latency: devices the messages are spread over, in turn")
	flag.IntVar(&o.pollers, "pollers", 5, "latency: /hw_drivers/event listeners, each on its own device (at most -devices)")
	flag.IntVar(&o.clients, "clients", 1000, "fan-out: WebSocket clients subscribed to mqtt_realtime (0 skips the fan-out)")
	flag.IntVar(&o.sessions, "sessions", 4, "fan-out: logged-in sessions the clients share")
	flag.StringVar(&rates, "fanout-rates", "100,500", "fan-out: messages per second of each step, comma-separated")
	flag.DurationVar(&o.fanoutDuration, "fanout-duration", 10*time.Second, "fan-out: publishing time per step")
	flag.DurationVar(&o.targetP99, "target-p99", 50*time.Millisecond, "latency target for p99 (printed as met or not met)")
	flag.BoolVar(&quick, "quick", false, "smoke run under 30 s: -duration 4s -warmup 1s -clients 200 -fanout-duration 3s, unless set")
	flag.Parse()

	if quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quickly := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		quickly("duration", func() { o.duration = 4 * time.Second })
		quickly("warmup", func() { o.warmup = time.Second })
		quickly("clients", func() { o.clients = 200 })
		quickly("fanout-duration", func() { o.fanoutDuration = 3 * time.Second })
	}
	var err error
	o.fanoutRates, err = benchproc.IntList("fanout-rates", rates, 1, math.MaxInt32)
	if err == nil && (o.rate < 1 || o.duration <= 0 || o.warmup < 0 || o.devices < 1 || o.pollers < 0 ||
		o.clients < 0 || o.sessions < 1 || o.fanoutDuration <= 0) {
		err = errors.New("need -rate >= 1, -duration > 0, -warmup >= 0, -devices >= 1, -pollers >= 0, -clients >= 0, -sessions >= 1, -fanout-duration > 0")
	}
	o.pollers = min(o.pollers, o.devices)
	if err != nil {
		benchproc.UsageError("buslatency", err)
	}
	benchproc.Main("buslatency", func(ctx context.Context) error { return run(ctx, o) })
}

// raiseOpenFiles lifts the soft open-files limit to the hard one (and the
// hard one too when allowed) so that need sockets fit. Calling Setrlimit
// also makes children inherit the new limit: the Go runtime raises its
// own soft limit at start but restores the original for children unless
// the program set one itself. The server is started after this.
func raiseOpenFiles(need uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Max < need {
		want := syscall.Rlimit{Cur: need, Max: need}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			return need, nil
		}
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < need {
		return l.Cur, fmt.Errorf("open files limited to %d (hard limit), %d wanted: lower -clients or raise the limit", l.Cur, need)
	}
	return l.Cur, nil
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	limit, err := raiseOpenFiles(uint64(o.clients + o.pollers + 1024))
	if err != nil {
		return err
	}
	log.Info("Open files limit", slog.Uint64("nofile", limit))
	bin, cleanup, err := benchproc.ServerBinary(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	o.bin = bin
	broker, err := benchmqtt.StartMosquitto(ctx, o.mosquitto)
	if err != nil {
		return err
	}
	defer broker.Stop()
	log.Info("Mosquitto started", slog.String("addr", broker.Addr))

	dbURL, err := benchproc.RecreateDatabase(ctx, o.pg, benchDB)
	if err != nil {
		return err
	}
	srv, err := benchproc.StartServer(ctx, o.bin, dbURL)
	if err != nil {
		return err
	}
	defer srv.Stop()
	log.Info("Server started", slog.String("url", srv.URL()), slog.Int("pid", srv.PID()))

	b := &bench{o: o, log: log, broker: broker, srv: srv, run: strconv.FormatInt(time.Now().UnixNano()%1_000_000, 36),
		startLoad: benchproc.LoadAverage()}
	err = b.runSteps(ctx)
	b.report(os.Stdout) // what was measured, even when a step failed
	if err != nil {
		return err
	}
	if len(b.failures) > 0 {
		fmt.Fprintf(os.Stderr, "\nserver log, last lines:\n%s\n\n", srv.LogTail())
		return fmt.Errorf("%w:\n  %s", benchproc.ErrFunctional, strings.Join(b.failures, "\n  "))
	}
	return nil
}

// bench holds what the steps share, and their results.
type bench struct {
	o         options
	log       *slog.Logger
	broker    *benchmqtt.Mosquitto
	srv       *benchproc.Server
	web       *webClient // the admin's session: setup calls, the latency step's socket and polls
	run       string     // tells this run's device ids and topics from another's
	startLoad string

	latency       *latencyResult
	fanout        []fanoutResult
	idleRSS       int64  // kB, server VmRSS with the fan-out clients connected, before publishing
	fanoutDup     int64  // notes a fan-out client got twice (an id not above its last)
	fanoutClosed  int    // fan-out sockets that ended before the bench closed them
	fanoutSockErr string // why the last of those ended
	failures      []string
}

// fail records a functional failure; the run goes on and exits 1.
func (b *bench) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.failures = append(b.failures, msg)
	b.log.Error("Functional failure", slog.String("what", msg))
}

// runSteps configures the server, then runs the latency step and the
// fan-out steps. An error stops the run.
func (b *bench) runSteps(ctx context.Context) error {
	var err error
	if b.web, err = login(ctx, b.srv.URL()); err != nil {
		return b.srv.Check(err)
	}
	if err := b.web.listen(ctx, b.broker.Addr, "oim-bench-bus-"+b.run, []string{"device/#", "oim-bench/#"}); err != nil {
		return b.srv.Check(err)
	}
	if err := b.latencyStep(ctx); err != nil {
		return b.srv.Check(err)
	}
	if b.o.clients > 0 && len(b.o.fanoutRates) > 0 {
		if err := b.fanoutSteps(ctx); err != nil {
			return b.srv.Check(err)
		}
	}
	return b.srv.Check(nil)
}

// awaitStragglers polls progress every tick after the last publish until it
// reports complete, or its total has not grown for idleGrace (the rest is
// lost); it stops early if the server dies or ctx ends.
func (b *bench) awaitStragglers(ctx context.Context, tick time.Duration, progress func() (total int64, complete bool)) error {
	lastGrowth, lastTotal := time.Now(), int64(-1)
	for {
		total, complete := progress()
		if total != lastTotal {
			lastGrowth, lastTotal = time.Now(), total
		}
		if complete || time.Since(lastGrowth) >= idleGrace {
			return nil
		}
		if err := b.alive(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tick):
		}
	}
}
