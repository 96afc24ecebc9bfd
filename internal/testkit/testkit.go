// Package testkit holds the test helpers that the tests of several
// packages share: the CI=true rule for missing tools (Missing, Tool),
// waiting for a condition (Poll, Eventually), collecting output written
// from other goroutines (Buffer, Logs), and HTTP and JSON-RPC requests
// (Post, Do, CallBody). The MQTT side, a test Mosquitto and paho clients,
// is package internal/testmqtt; test databases are models/modelstest.
//
// It is imported by tests only, and imports nothing of this module, so
// that any package's tests, models' own included, can use it.
package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Missing ends a test that lacks a tool or service it needs; what says
// which, and how to get it. Under CI=true, where every test must run, the
// test fails: a skip would hide a broken setup. Elsewhere it is skipped.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s", what)
	}
	t.Skip(what)
}

// Tool returns the first of names that exec.LookPath finds (a name with
// a "/" is taken as a path); without any, Missing says that names[0] is
// not installed, and hint how to get it or what needs it.
func Tool(t testing.TB, hint string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, fmt.Sprintf("%s is not installed: %s", filepath.Base(names[0]), hint))
	return ""
}

// The polling interval of Poll: short at first, for what happens in
// microseconds, then longer, for what takes a round trip to a server.
const (
	firstPoll = time.Millisecond
	maxPoll   = 50 * time.Millisecond
)

// Poll calls cond until it holds, and reports whether it did before
// timeout passed. It checks once more at the deadline.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for wait := firstPoll; ; wait = min(2*wait, maxPoll) {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(wait, left))
	}
}

// Eventually waits until cond holds, failing the test when it does not
// within timeout. timeout only turns a hang into a failure: it decides no
// result.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Buffer is a bytes.Buffer that goroutines may write to while the test
// reads it: a log or a child process's output.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Logs is a test's log destination: each line written is kept for the
// test to look for and shown in the test log while the test runs. Lines
// that arrive after it ended (from a goroutine still stopping) are kept
// but not shown: t.Log would panic.
type Logs struct {
	mu    sync.Mutex
	t     testing.TB
	done  bool
	lines []string
}

// NewLogger returns a text logger of records at level and above, and the
// Logs it writes to.
func NewLogger(t testing.TB, level slog.Level) (*slog.Logger, *Logs) {
	l := &Logs{t: t}
	t.Cleanup(func() { l.mu.Lock(); l.done = true; l.mu.Unlock() })
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: level})), l
}

func (l *Logs) Write(p []byte) (int, error) {
	line := string(bytes.TrimRight(p, "\n"))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if !l.done {
		l.t.Log(line)
	}
	return len(p), nil
}

// Count returns how many lines contain all of parts.
func (l *Logs) Count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
next:
	for _, line := range l.lines {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		n++
	}
	return n
}

// Do sends r with c (nil: http.DefaultClient) and returns the response
// with its body read and closed; a transport error fails the test.
func Do(t testing.TB, c *http.Client, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", r.Method, r.URL, err)
	}
	return resp, body
}

// Post sends body to url with the content type (none when "") and
// cookies, and returns the response with its body read.
func Post(t testing.TB, url, contentType string, body []byte, cookies ...*http.Cookie) (*http.Response, []byte) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return Do(t, nil, r)
}

// CallBody is a JSON-RPC 2.0 request as Odoo's clients send one:
// {"jsonrpc":"2.0","method":"call","params":params,"id":1}.
func CallBody(t testing.TB, params any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": params, "id": 1})
	if err != nil {
		t.Fatalf("JSON-RPC params: %v", err)
	}
	return b
}
