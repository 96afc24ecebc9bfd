// Command floodrss measures the server's memory under an MQTT flood: the
// real server binary, subscribed through a real Mosquitto, receives 1 MB
// QoS 0 payloads from open-loop publishers for 20 s, and the command
// prints the server's peak resident memory as a ratio of its idle RSS
// measured in the same run, and against the 300 MB the README promises.
// With -baseline REF it also builds and measures that revision's server
// (main, say), for the before/after figure. It fails only on functional
// errors (a server that exits, a setup that fails), never because of a
// figure. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

type options struct {
	duration   time.Duration
	size       int
	publishers int
	db         string
	pg         string
	mosquitto  string
	bin        string
	baseline   string
	baseBin    string
	args       []string // extra server flags, this checkout's server only
	device     bool     // flood device telemetry topics instead of a subscription's
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long the publishers flood")
	flag.IntVar(&o.size, "size", 1_000_000, "payload size in bytes")
	flag.IntVar(&o.publishers, "publishers", 2, "concurrent publishing clients")
	flag.StringVar(&o.db, "db", "sqlite", "database the server runs on: sqlite or postgres")
	flag.StringVar(&o.pg, "pg", benchproc.DefaultPG(), "PostgreSQL URL of a maintenance database, for -db postgres (default $ODOO_IOT_MQTT_TEST_PG)")
	flag.StringVar(&o.mosquitto, "mosquitto", "/usr/sbin/mosquitto", "Mosquitto binary, started on a free port")
	flag.StringVar(&o.bin, "bin", "", "server binary to run instead of building ./server from this checkout")
	flag.StringVar(&o.baseline, "baseline", "", "also build and measure the server at this git revision (e.g. main)")
	flag.StringVar(&o.baseBin, "baseline-bin", "", "also measure this server binary, as the baseline")
	flag.BoolVar(&o.device, "device", false, "flood device telemetry topics (device/<id>/telemetry/<sensor>, device discovery's default) instead of a subscription's topic: the device queue's path")
	serverArgs := flag.String("server-args", "", "extra flags for this checkout's server, space-separated (e.g. --ingest-queue-bytes=8388608)")
	flag.Parse()
	o.args = strings.Fields(*serverArgs)
	if o.duration <= 0 || o.size < 16 || o.publishers < 1 || (o.db != "sqlite" && o.db != "postgres") {
		benchproc.UsageError("floodrss", errors.New("need -duration > 0, -size >= 16, -publishers >= 1, -db sqlite or postgres"))
	}
	benchproc.Main("floodrss", func(ctx context.Context) error { return run(ctx, o) })
}

// server is one binary to measure.
type server struct {
	name, bin string
	args      []string
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	bin, cleanup, err := benchproc.ServerBinary(ctx, o.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	servers := []server{{"this checkout", bin, o.args}}
	switch {
	case o.baseBin != "":
		servers = append(servers, server{"baseline", o.baseBin, nil})
	case o.baseline != "":
		log.Info("Building the baseline", slog.String("revision", o.baseline))
		base, cleanup, err := benchproc.BuildServerAt(ctx, o.baseline)
		if err != nil {
			return err
		}
		defer cleanup()
		servers = append(servers, server{o.baseline, base, nil})
	}
	broker, err := benchmqtt.StartMosquitto(ctx, o.mosquitto)
	if err != nil {
		return err
	}
	defer broker.Stop()
	log.Info("Mosquitto started", slog.String("addr", broker.Addr), slog.Int("pid", broker.PID()))

	start := benchproc.LoadAverage()
	var results []result
	var failures []string
	for i, s := range servers {
		r, err := flood(ctx, o, broker, s, fmt.Sprintf("floodrss-%d", i), log)
		if err != nil {
			if !errors.Is(err, benchproc.ErrFunctional) {
				return err
			}
			failures = append(failures, fmt.Sprintf("%s: %v", s.name, err))
		}
		results = append(results, r)
	}
	report(os.Stdout, o, results, start)
	if len(failures) > 0 {
		return fmt.Errorf("%w:\n  %s", benchproc.ErrFunctional, strings.Join(failures, "\n  "))
	}
	return nil
}
