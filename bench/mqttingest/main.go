// Command mqttingest measures how fast the server stores what it receives
// over MQTT: N messages published through a real Mosquitto, counted once
// their mqtt.signal.history rows are committed, on PostgreSQL and SQLite,
// at QoS 0 and 1. The reference, measured in the same run, is a bare paho
// subscriber that only counts. It also measures action_send_mqtt over
// XML-RPC against a bare paho publish-and-wait loop. Figures are printed
// as ratios against those references; the command fails only on
// functional errors (server crash, loss at QoS 1, wrong counts), never
// because of a figure. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

const (
	benchDB       = "oim_bench_mqtt"       // PostgreSQL database each server case recreates
	pollEvery     = 50 * time.Millisecond  // committed-row count polling
	flowPollEvery = 10 * time.Millisecond  // the same, when a QoS 1 publisher waits on it
	rssEvery      = 100 * time.Millisecond // VmRSS sampling
	idleGrace     = 3 * time.Second        // no progress for this long after the last publish: the rest is lost
	stallLimit    = 30 * time.Second       // no progress for this long while publishing: the case failed
)

type options struct {
	n            int
	size         int
	window       int
	e2eWindow    int
	pg           string
	mosquitto    string
	qos          []byte
	protocols    []string // mqtt.broker protocol values
	dbs          []string
	bin          string
	timeout      time.Duration
	sendDuration time.Duration
	sendClients  int
	rules        int  // rules case: active rules matching every message; 0 skips the case
	rulesPings   int  // rules case: latency samples
	rulesPairs   int  // rules case: pairs of cases without and with rules
	persistent   bool // the server's broker record: clean_session off (the redelivery window is written)
}

func main() {
	def := benchproc.DefaultPG()
	var (
		o                   options
		qos, dbs, protocols string
	)
	flag.IntVar(&o.n, "n", 200_000, "messages published per case")
	flag.IntVar(&o.size, "size", 100, "payload size in bytes")
	flag.IntVar(&o.window, "window", 200, "QoS 1 publisher: PUBACKs awaited at most in flight")
	flag.IntVar(&o.e2eWindow, "e2e-window", 500, "QoS 1 publisher: messages published but not yet received (or committed) at most; 0: open loop, and Mosquitto drops what exceeds its max_queued_messages (1000)")
	flag.StringVar(&o.pg, "pg", def, "PostgreSQL URL of a maintenance database (default $ODOO_IOT_MQTT_TEST_PG)")
	flag.StringVar(&o.mosquitto, "mosquitto", "/usr/sbin/mosquitto", "Mosquitto binary, started on a free port")
	flag.StringVar(&qos, "qos", "0,1", "QoS levels to measure, comma-separated")
	flag.StringVar(&dbs, "db", "postgres,sqlite", "databases to measure the server on, comma-separated")
	flag.StringVar(&protocols, "protocol", "3.1.1", "MQTT versions of the server's broker connection, comma-separated (3.1.1, 5); with both, each server case runs on both and the MQTT 5 vs 3.1.1 ratio is printed")
	flag.StringVar(&o.bin, "bin", "", "server binary to run instead of building ./server from this checkout")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "longest wait for one case's messages")
	flag.DurationVar(&o.sendDuration, "send-duration", 10*time.Second, "send benchmark: measured time per case (0 skips it)")
	flag.IntVar(&o.sendClients, "send-clients", 4, "send benchmark: concurrent clients")
	flag.IntVar(&o.rules, "rules", 100, "rules case: active mqtt.rule records whose filter matches every message, QoS 0 ingest against 0 rules (0 skips the case)")
	flag.IntVar(&o.rulesPings, "rules-pings", 100, "rules case: rule-to-publish latency samples, one at a time, 10 a second")
	flag.BoolVar(&o.persistent, "persistent", false, "server cases: the broker record with clean_session off (a persistent session), so QoS 1 ingest also writes the redelivery window")
	flag.IntVar(&o.rulesPairs, "rules-pairs", 3, "rules case: pairs of QoS 0 cases without and with the rules, in alternating order; the ratio is their median")
	flag.Parse()
	var err error
	if o.qos, err = parseQoS(qos); err == nil {
		o.dbs, err = parseDBs(dbs)
	}
	if err == nil {
		o.protocols, err = parseProtocols(protocols)
	}
	if err == nil && (o.n < 1 || o.size < 16 || o.window < 1 || o.timeout <= 0 || o.sendClients < 1 || o.sendDuration < 0 || o.rules < 0 || o.rulesPings < 1 || o.rulesPairs < 1) {
		err = errors.New("need -n >= 1, -size >= 16, -window >= 1, -timeout > 0, -send-clients >= 1, -send-duration >= 0, -rules >= 0, -rules-pings >= 1, -rules-pairs >= 1")
	}
	if err != nil {
		benchproc.UsageError("mqttingest", err)
	}
	benchproc.Main("mqttingest", func(ctx context.Context) error { return run(ctx, o) })
}

func parseQoS(s string) ([]byte, error) {
	var out []byte
	for _, f := range strings.Split(s, ",") {
		q, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || q < 0 || q > 1 {
			return nil, fmt.Errorf("-qos: %q is not 0 or 1", f)
		}
		out = append(out, byte(q))
	}
	return out, nil
}

func parseDBs(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(f); f {
		case "postgres", "sqlite":
			out = append(out, f)
		case "":
		default:
			return nil, fmt.Errorf("-db: %q is not postgres or sqlite", f)
		}
	}
	return out, nil
}

func parseProtocols(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(f); f {
		case "3.1.1":
			out = append(out, protocolV311)
		case "5":
			out = append(out, protocolV5)
		case "":
		default:
			return nil, fmt.Errorf("-protocol: %q is not 3.1.1 or 5", f)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-protocol: none given")
	}
	return out, nil
}

// The mqtt.broker protocol values measured.
const (
	protocolV311 = "MQTTv311"
	protocolV5   = "MQTTv5"
)

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if o.bin == "" && len(o.dbs) > 0 {
		bin, cleanup, err := benchproc.BuildServer(ctx)
		if err != nil {
			return err
		}
		defer cleanup()
		o.bin = bin
	}
	broker, err := benchmqtt.StartMosquitto(ctx, o.mosquitto)
	if err != nil {
		return err
	}
	defer broker.Stop()
	log.Info("Mosquitto started", slog.String("addr", broker.Addr), slog.Int("pid", broker.PID()))

	b := &bench{o: o, broker: broker, log: log, startLoad: benchproc.LoadAverage()}
	err = b.runCases(ctx)
	b.report(os.Stdout) // what was measured, even when a case failed
	if err != nil {
		return err
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%w:\n  %s", benchproc.ErrFunctional, strings.Join(b.failures, "\n  "))
	}
	return nil
}

// runCases measures, for each QoS, the reference then the server on each
// database, the QoS 0 case of each database followed by its rules case
// (with -qos 1 alone, the QoS 0 server case runs for it all the same);
// then the send benchmark. The first error stops the run.
func (b *bench) runCases(ctx context.Context) error {
	for _, q := range b.o.qos {
		ref, err := b.reference(ctx, q)
		if err != nil {
			return err
		}
		b.ingest = append(b.ingest, ref)
		for _, db := range b.o.dbs {
			for _, proto := range b.o.protocols {
				r, err := b.serverIngest(ctx, q, db, proto)
				if err != nil {
					return err
				}
				b.ingest = append(b.ingest, r)
				if b.wantRules(q, proto) {
					if err := b.runRules(ctx, r); err != nil {
						return err
					}
				}
			}
		}
	}
	if b.o.rules > 0 && !slices.Contains(b.o.qos, 0) {
		for _, db := range b.o.dbs {
			r, err := b.serverIngest(ctx, 0, db, b.o.protocols[0])
			if err != nil {
				return err
			}
			b.ingest = append(b.ingest, r)
			if err := b.runRules(ctx, r); err != nil {
				return err
			}
		}
	}
	if b.o.sendDuration <= 0 {
		return nil
	}
	ref, err := b.referenceSend(ctx)
	if err != nil {
		return err
	}
	b.sends = append(b.sends, ref)
	for _, db := range b.o.dbs {
		r, err := b.serverSend(ctx, db)
		if err != nil {
			return err
		}
		b.sends = append(b.sends, r)
	}
	return nil
}

// bench holds what every case shares, and the results so far.
type bench struct {
	o         options
	broker    *benchmqtt.Mosquitto
	log       *slog.Logger
	startLoad string // /proc/loadavg when the run began

	ingest   []ingestResult
	sends    []sendResult
	rules    []rulesResult
	failures []string // functional failures that did not stop the run
}

// fail records a functional failure; the run goes on and exits 1.
func (b *bench) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.failures = append(b.failures, msg)
	b.log.Error("Functional failure", slog.String("what", msg))
}
