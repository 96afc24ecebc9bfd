package main

// Helpers for the end-to-end tests, which build the real binary and drive
// it over real sockets.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the server once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "oim-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "odoo-iot-mqtt")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatalf("build server: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// serverProc is a running server binary.
type serverProc struct {
	cmd  *exec.Cmd
	addr string // host:port it listens on
	log  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs the binary with args plus a free port and JSON logs, and
// waits until it logs that it listens.
func startServer(t *testing.T, args ...string) *serverProc {
	t.Helper()
	args = append([]string{"--http-addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = cleanEnv()
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	cmd.Stderr = pw
	cmd.Stdout = logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	p := &serverProc{cmd: cmd, log: logs, done: make(chan error, 1)}
	go func() { err := cmd.Wait(); pw.Close(); p.done <- err }()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logs.Write([]byte(line + "\n"))
			var rec map[string]any
			if !sent && json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "Listening" {
				ready <- rec["addr"].(string)
				sent = true
			}
		}
		close(ready)
	}()
	select {
	case addr, ok := <-ready:
		if !ok {
			t.Fatalf("server exited before listening:\n%s", logs.String())
		}
		p.addr = addr
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start in time:\n%s", logs.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return p
}

// stop sends SIGTERM and returns the exit code.
func (p *serverProc) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("server did not stop on SIGTERM:\n%s", p.log.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *serverProc) url() string { return "http://" + p.addr }

// cleanEnv drops our own variables so the developer's environment cannot
// change what a test configures.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ODOO_IOT_MQTT_") {
			out = append(out, kv)
		}
	}
	return out
}

// python3 returns the interpreter, failing under CI when it is missing.
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required under CI")
		}
		t.Skip("python3 not found: skipping the Python client test")
	}
	return p
}

// postJSON posts a JSON-RPC call and decodes the envelope.
func postJSON(t *testing.T, c *http.Client, url string, params any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: status %d, undecodable body: %v", url, resp.StatusCode, err)
	}
	return out
}
