// Command cluster measures issue 12's cluster: (a) how ingest scales with
// 1, 2 and 3 server instances on one PostgreSQL database and a broker
// with a shared_group, measured in the same run, as a ratio of the one
// instance figure; (b) the failover time over repeated SIGKILLs of a
// broker's owner during a QoS 1 stream with a persistent session. It
// fails only on functional errors (loss, duplicates, a crash of an
// instance not killed, no new owner), never because of a figure. See
// bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

const (
	benchDB   = "oim_bench_cluster" // PostgreSQL database each case recreates
	pollEvery = 20 * time.Millisecond
)

type options struct {
	n         int   // ingest: messages per case
	instances []int // ingest: cluster sizes measured
	rounds    int   // ingest: passes over the sizes, in alternating order
	window    int   // QoS 1 publisher: PUBACKs awaited at most in flight
	kills     int   // failover: SIGKILLs of the owner
	rate      int   // failover: stream rate, messages per second
	pg        string
	mosquitto string
	bin       string
	timeout   time.Duration
}

func main() {
	var (
		o     options
		sizes string
	)
	flag.IntVar(&o.n, "n", 50_000, "ingest: QoS 1 messages published per case")
	flag.StringVar(&sizes, "instances", "1,2,3", "ingest: cluster sizes, comma-separated; the first is the reference")
	flag.IntVar(&o.rounds, "rounds", 3, "ingest: passes over the sizes (the odd ones reversed), figures summed per size")
	flag.IntVar(&o.window, "window", 200, "QoS 1 publisher: PUBACKs awaited at most in flight")
	flag.IntVar(&o.kills, "kills", 10, "failover: SIGKILLs of the broker's owner (0 skips the part)")
	flag.IntVar(&o.rate, "rate", 500, "failover: messages per second of the QoS 1 stream during the kills")
	flag.StringVar(&o.pg, "pg", benchproc.DefaultPG(), "PostgreSQL URL of a maintenance database (default $ODOO_IOT_MQTT_TEST_PG)")
	flag.StringVar(&o.mosquitto, "mosquitto", "/usr/sbin/mosquitto", "Mosquitto binary, started on a free port")
	flag.StringVar(&o.bin, "bin", "", "server binary to run instead of building ./server from this checkout")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "longest wait for one case's messages")
	flag.Parse()
	var err error
	o.instances, err = benchproc.IntList("instances", sizes, 1, 8)
	if err == nil && (o.n < 1 || o.rounds < 1 || o.window < 1 || o.kills < 0 || o.rate < 1 || o.timeout <= 0) {
		err = errors.New("need -n >= 1, -rounds >= 1, -window >= 1, -kills >= 0, -rate >= 1, -timeout > 0")
	}
	if err != nil {
		benchproc.UsageError("cluster", err)
	}
	benchproc.Main("cluster", func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	bin, cleanup, err := benchproc.ServerBinary(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	// No queue limit: the publisher runs ahead of the ingest, and a stock
	// Mosquitto would drop past 1,000 queued messages per session.
	broker, err := benchmqtt.StartMosquitto(ctx, o.mosquitto, "max_queued_messages 0")
	if err != nil {
		return err
	}
	defer broker.Stop()
	log.Info("Mosquitto started", slog.String("addr", broker.Addr), slog.Int("pid", broker.PID()))
	keys, err := os.MkdirTemp("", "oim-bench-cluster-keys-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(keys)

	b := &bench{o: o, bin: bin, broker: broker, log: log, keys: keys, startLoad: benchproc.LoadAverage()}
	err = b.runIngest(ctx)
	if err == nil && o.kills > 0 {
		err = b.runFailover(ctx)
	}
	b.report(os.Stdout) // what was measured, even when a part failed
	return err
}

// bench holds what both parts share, and the results.
type bench struct {
	o         options
	bin       string
	broker    *benchmqtt.Mosquitto
	log       *slog.Logger
	keys      string // directory of the secret key file the instances share
	startLoad string

	cases    int // ingest cases started
	ingest   []ingestResult
	failover *failoverResult
}
