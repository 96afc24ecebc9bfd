package main

// The broker: Debian's Mosquitto on a free loopback port, with a
// configuration that sets only a listener and anonymous access, so every
// limit is Mosquitto's default (as for bench/mqttingest).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

type mosquitto struct {
	cmd  *exec.Cmd
	addr string
	dir  string

	mu      sync.Mutex
	tail    []string
	dropped map[string]bool // clients Mosquitto logged dropping outgoing messages for
	exited  chan struct{}
	err     error
}

func startMosquitto(ctx context.Context, bin string) (*mosquitto, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "oim-bench-mosquitto-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nlog_dest stderr\n", port)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Mosquitto drops root privileges after reading its configuration.
	os.Chmod(dir, 0o755)
	cmd := exec.Command(bin, "-c", conf)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w (install Debian's mosquitto package, or pass -mosquitto)", bin, err)
	}
	m := &mosquitto{cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, dropped: map[string]bool{}, exited: make(chan struct{})}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		m.readLog(pr)
	}()
	go func() {
		m.err = cmd.Wait()
		pw.Close()
		<-logDone
		close(m.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.addr, time.Second)
		if err == nil {
			c.Close()
			return m, nil
		}
		select {
		case <-m.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("mosquitto exited (%v):\n%s", m.err, m.logTail())
		case <-ctx.Done():
			m.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("mosquitto not listening on %s after 10 s:\n%s", m.addr, m.logTail())
		}
	}
}

func (m *mosquitto) readLog(r io.Reader) {
	const dropNotice = "Outgoing messages are being dropped for client "
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		m.mu.Lock()
		m.tail = append(m.tail, line)
		if len(m.tail) > 20 {
			m.tail = m.tail[1:]
		}
		if _, client, ok := strings.Cut(line, dropNotice); ok {
			m.dropped[strings.TrimSuffix(client, ".")] = true
		}
		m.mu.Unlock()
	}
	io.Copy(io.Discard, r)
}

// droppedFor reports whether Mosquitto dropped messages for a client id
// starting with prefix (the server suffixes its broker record's id).
func (m *mosquitto) droppedFor(prefix string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.dropped {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

func (m *mosquitto) logTail() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.tail, "\n")
}

func (m *mosquitto) url() string { return "tcp://" + m.addr }

// alive reports a broker that exited as a functional failure.
func (m *mosquitto) alive() error {
	select {
	case <-m.exited:
		return fmt.Errorf("%w: mosquitto exited (%v):\n%s", benchproc.ErrFunctional, m.err, m.logTail())
	default:
		return nil
	}
}

func (m *mosquitto) stop() {
	select {
	case <-m.exited:
	default:
		m.cmd.Process.Signal(os.Interrupt)
		select {
		case <-m.exited:
		case <-time.After(5 * time.Second):
			m.cmd.Process.Kill()
			<-m.exited
		}
	}
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
