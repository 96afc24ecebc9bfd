// Package testmqtt is the MQTT side of the tests. It runs a real Mosquitto
// (Debian's package): one broker process per call, on a free loopback
// port, with a generated configuration in the test's temporary folder. It
// is stopped when the test ends and its output tail logged when the test
// failed. And it connects paho clients (Connect, Publish, Subscribe,
// Receive, Retained) that fail the test instead of returning errors.
//
// Without Mosquitto a test skips with one line; under CI=true, where the
// tests must run, it fails instead.
package testmqtt

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// Host is the loopback address every test broker listens on.
const Host = "127.0.0.1"

// startLimit bounds the wait for a started broker to accept connections.
const startLimit = 10 * time.Second

// tailLines is how much of the broker's output a failed test shows.
const tailLines = 60

// TLS adds a second listener speaking TLS with the given PEM files.
type TLS struct {
	CA, Cert, Key []byte
	// RequireCertificate makes clients present a certificate signed by CA.
	RequireCertificate bool
}

// Options is what a test broker offers beyond an anonymous plain
// listener.
type Options struct {
	Users       map[string]string // password file; empty: anonymous access
	TLS         *TLS              // nil: no TLS listener
	Persistence bool              // keep sessions and retained messages across Restart
	Config      []string          // further mosquitto.conf lines, e.g. "max_queued_messages 0"
}

// Broker is one running test Mosquitto.
type Broker struct {
	t       testing.TB
	bin     string
	dir     string
	port    int
	tlsPort int
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Bin returns the Mosquitto executable; without it the test skips, or
// fails under CI=true.
func Bin(t testing.TB) string {
	t.Helper()
	return testkit.Tool(t, "apt-get install mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "mosquitto")
}

// Start writes a configuration and starts the broker, returning once its
// listeners accept connections. It is killed when the test ends.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	b := &Broker{t: t, bin: Bin(t), dir: t.TempDir(), port: FreePort(t)}
	conf, err := b.config(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.start()
	t.Cleanup(func() {
		b.Kill()
		if t.Failed() {
			t.Logf("mosquitto output (tail):\n%s", b.tail())
		}
	})
	return b
}

// config returns the configuration lines for opts, writing the files
// they refer to (password file, PEM files) into the broker's folder.
func (b *Broker) config(opts Options) ([]string, error) {
	var conf []string
	if os.Geteuid() == 0 {
		conf = append(conf, "user root") // else it drops to "mosquitto", who cannot read the temp folder
	}
	conf = append(conf, "per_listener_settings false", fmt.Sprintf("listener %d %s", b.port, Host))
	if len(opts.Users) == 0 {
		conf = append(conf, "allow_anonymous true")
	} else {
		pw := filepath.Join(b.dir, "passwd")
		// Sorted so that the first user creates the file (-c) every run.
		for i, user := range slices.Sorted(maps.Keys(opts.Users)) {
			args := []string{"-b", pw, user, opts.Users[user]}
			if i == 0 {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("mosquitto_passwd: %w: %s", err, out)
			}
		}
		conf = append(conf, "allow_anonymous false", "password_file "+pw)
	}
	if tls := opts.TLS; tls != nil {
		b.tlsPort = FreePort(b.t)
		files := map[string][]byte{"ca.pem": tls.CA, "server.pem": tls.Cert, "server.key": tls.Key}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(b.dir, name), data, 0o600); err != nil {
				return nil, err
			}
		}
		conf = append(conf, fmt.Sprintf("listener %d %s", b.tlsPort, Host),
			"cafile "+filepath.Join(b.dir, "ca.pem"), "certfile "+filepath.Join(b.dir, "server.pem"),
			"keyfile "+filepath.Join(b.dir, "server.key"))
		if tls.RequireCertificate {
			conf = append(conf, "require_certificate true")
		}
	}
	if opts.Persistence {
		conf = append(conf, "persistence true", "persistence_location "+b.dir+"/", "autosave_interval 1")
	}
	return append(conf, opts.Config...), nil
}

// start runs the broker and waits until its ports accept connections.
func (b *Broker) start() {
	b.t.Helper()
	out, err := os.OpenFile(b.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		b.t.Fatal(err)
	}
	defer out.Close()
	b.cmd = exec.Command(b.bin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	b.cmd.Stdout, b.cmd.Stderr = out, out
	if err := b.cmd.Start(); err != nil {
		b.t.Fatalf("start mosquitto: %v", err)
	}
	b.exited = make(chan struct{})
	cmd, exited := b.cmd, b.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	for _, p := range []int{b.port, b.tlsPort} {
		if p != 0 && !waitListening(p, exited) {
			b.t.Fatalf("mosquitto did not listen on %d:\n%s", p, b.tail())
		}
	}
}

// Kill ends the broker with SIGKILL, as a crash or power loss would, and
// waits for it to go. Killing a stopped broker does nothing.
func (b *Broker) Kill() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.exited
	b.cmd = nil
}

// Restart kills the broker, unless Kill did already, and starts it again
// on the same ports.
func (b *Broker) Restart() { b.Kill(); b.start() }

// Port is the plain MQTT listener's port.
func (b *Broker) Port() int { return b.port }

// TLSPort is the TLS listener's port, 0 without Options.TLS.
func (b *Broker) TLSPort() int { return b.tlsPort }

// Addr is the plain listener as host:port.
func (b *Broker) Addr() string { return net.JoinHostPort(Host, strconv.Itoa(b.port)) }

// URL is the plain listener as a paho broker URL, tcp://host:port.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Output is everything the broker wrote so far, for tests that check
// what it logged (connections, client ids).
func (b *Broker) Output() string {
	out, err := os.ReadFile(b.logPath())
	if err != nil {
		b.t.Fatal(err)
	}
	return string(out)
}

func (b *Broker) logPath() string { return filepath.Join(b.dir, "mosquitto.log") }

// tail returns the last lines of the broker's output.
func (b *Broker) tail() string {
	out, err := os.ReadFile(b.logPath())
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n"))
	if len(lines) > tailLines {
		lines = append([][]byte{[]byte(fmt.Sprintf("[%d earlier lines]", len(lines)-tailLines))}, lines[len(lines)-tailLines:]...)
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening polls port until it accepts a connection, the process
// exits, or startLimit passes.
func waitListening(port int, exited <-chan struct{}) bool {
	addr := net.JoinHostPort(Host, strconv.Itoa(port))
	for deadline := time.Now().Add(startLimit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return true
		}
	}
	return false
}
