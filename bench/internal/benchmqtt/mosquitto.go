// Package benchmqtt is the MQTT side the benchmark commands share: a
// Mosquitto broker they start on a free port, and the paho clients that
// stand for devices and reference subscribers.
package benchmqtt

// The broker: Debian's Mosquitto, started on a free loopback port with a
// temporary configuration that sets only what a fresh install needs to be
// reachable (a listener, anonymous clients). Everything else keeps
// Mosquitto's defaults, max_inflight_messages 20 and max_queued_messages
// 1000 among them, so that the figures hold for a stock broker.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// Mosquitto is a running broker. Its log is read for the notices a
// benchmark reports: messages dropped for a client, and connections.
type Mosquitto struct {
	*benchproc.Child
	Addr string // host:port
	dir  string

	mu       sync.Mutex
	dropped  map[string]int // "Outgoing messages are being dropped for client X" notices, per client id
	connects map[string]int // "New client connected from ... as X (...)" lines, per client id
}

// StartMosquitto starts bin and returns once it accepts connections;
// extra are further configuration lines.
func StartMosquitto(ctx context.Context, bin string, extra ...string) (*Mosquitto, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "oim-bench-mosquitto-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_timestamp_format %%H:%%M:%%S\n", port)
	for _, line := range extra {
		body += line + "\n"
	}
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Mosquitto drops root privileges to the "mosquitto" user after
	// reading its configuration; the directory stays readable.
	os.Chmod(dir, 0o755)
	m := &Mosquitto{Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir,
		dropped: map[string]int{}, connects: map[string]int{}}
	m.Child, err = benchproc.StartChild(exec.Command(bin, "-c", conf), true, m.readLine)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w (install Debian's mosquitto package, or pass -mosquitto)", bin, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.Addr, time.Second)
		if err == nil {
			c.Close()
			return m, nil
		}
		select {
		case <-m.Exited():
			os.RemoveAll(dir)
			return nil, m.ExitError("mosquitto")
		case <-ctx.Done():
			m.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, fmt.Errorf("mosquitto not listening on %s after 10 s:\n%s", m.Addr, m.LogTail())
		}
	}
}

// readLine notes the log lines a benchmark reports.
func (m *Mosquitto) readLine(line string) {
	const (
		dropNotice    = "Outgoing messages are being dropped for client "
		connectNotice = "New client connected from "
	)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, client, ok := strings.Cut(line, dropNotice); ok {
		m.dropped[strings.TrimSuffix(client, ".")]++
	}
	if _, rest, ok := strings.Cut(line, connectNotice); ok {
		if _, id, ok := strings.Cut(rest, " as "); ok {
			id, _, _ = strings.Cut(id, " (")
			m.connects[id]++
		}
	}
}

// ofClient reports whether the client id c is id, or id and a "-"
// suffix: the server suffixes its broker record's client id for its
// short-lived connections.
func ofClient(c, id string) bool { return c == id || strings.HasPrefix(c, id+"-") }

// DroppedFor reports whether Mosquitto logged dropping outgoing messages
// for the client id (or id and a "-" suffix).
func (m *Mosquitto) DroppedFor(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.dropped {
		if ofClient(c, id) {
			return true
		}
	}
	return false
}

// ConnectsOf counts the connections made by the client id (or id and a
// "-" suffix): more than one means the client reconnected.
func (m *Mosquitto) ConnectsOf(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for c, k := range m.connects {
		if ofClient(c, id) {
			n += k
		}
	}
	return n
}

func (m *Mosquitto) URL() string { return "tcp://" + m.Addr }

// Alive reports a broker that exited as a functional failure.
func (m *Mosquitto) Alive() error {
	select {
	case <-m.Exited():
		return fmt.Errorf("%w: %w", benchproc.ErrFunctional, m.ExitError("mosquitto"))
	default:
		return nil
	}
}

// Stop interrupts the broker, kills it after 5 s, and removes its
// configuration.
func (m *Mosquitto) Stop() {
	m.Child.Stop(5 * time.Second)
	os.RemoveAll(m.dir)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
