// Command commandrtt measures device commands (iot.device.call): the
// round trip from an XML-RPC client through the server, a real Mosquitto
// and a device answering, back to the client, on an MQTT 3.1.1 and an
// MQTT 5 broker. The reference, measured in the same run through the same
// broker and device, is a bare MQTT client doing the same request and
// response itself. It prints calls per second and the p50/p99 latency of
// each, and the ratio; it fails only on functional errors (a call that
// does not return the device's answer, a command row not succeeded), never
// because of a figure. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

type options struct {
	pg, db, mosquitto, bin string
	protocols              []string
	clients                int
	duration               time.Duration
}

func main() {
	var o options
	var protocols string
	flag.StringVar(&o.pg, "pg", benchproc.DefaultPG(), "PostgreSQL URL of a maintenance database (default $ODOO_IOT_MQTT_TEST_PG)")
	flag.StringVar(&o.db, "db", "postgres", "database of the server: postgres or sqlite")
	flag.StringVar(&o.mosquitto, "mosquitto", "/usr/sbin/mosquitto", "Mosquitto binary, started on a free port")
	flag.StringVar(&o.bin, "bin", "", "server binary to run instead of building ./server from this checkout")
	flag.StringVar(&protocols, "protocols", "3.1.1,5", "broker protocols to measure, comma-separated (3.1.1, 5)")
	flag.IntVar(&o.clients, "clients", 4, "concurrent closed-loop callers per path")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per path, after a 1 s warm-up")
	flag.Parse()
	var err error
	for _, p := range strings.Split(protocols, ",") {
		switch p = strings.TrimSpace(p); p {
		case "3.1.1", "5":
			o.protocols = append(o.protocols, p)
		default:
			err = fmt.Errorf("-protocols: %q is not 3.1.1 or 5", p)
		}
	}
	if err == nil && (o.clients < 1 || o.duration <= 0 || (o.db != "postgres" && o.db != "sqlite")) {
		err = errors.New("need -clients >= 1, -duration > 0, -db postgres or sqlite")
	}
	if err != nil {
		benchproc.UsageError("commandrtt", err)
	}
	benchproc.Main("commandrtt", func(ctx context.Context) error {
		res, err := run(ctx, o)
		report(os.Stdout, o, res)
		return err
	})
}
