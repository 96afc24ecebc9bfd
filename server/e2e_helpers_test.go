package main

// Helpers for the end-to-end tests, which build the real binary and drive
// it over real sockets.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
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
	log  *testkit.Buffer
	done chan error
}

// startServer runs the binary with args plus a free port and JSON logs, and
// waits until it logs that it listens.
func startServer(t *testing.T, args ...string) *serverProc {
	t.Helper()
	args = append([]string{"--http-addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	args = withTestKeyFile(t, args)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = cleanEnv()
	pr, pw := io.Pipe()
	logs := &testkit.Buffer{}
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

// withTestKeyFile gives a server on PostgreSQL a secret key file of the
// test's database, outside the source tree (its default is data/ in the
// working directory, which is server/ under go test), unless args name
// one. The path follows from the DSN, so a restarted server finds it.
func withTestKeyFile(t *testing.T, args []string) []string {
	t.Helper()
	dsn := ""
	for i, a := range args {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "secret-key") {
			return args
		}
		if a == "--db" && i+1 < len(args) {
			dsn = args[i+1]
		}
	}
	if !strings.HasPrefix(dsn, "postgres") {
		return args
	}
	sum := sha256.Sum256([]byte(dsn))
	path := filepath.Join(os.TempDir(), "odoo-iot-mqtt-test-keys", hex.EncodeToString(sum[:8])+".key")
	t.Cleanup(func() { os.Remove(path) })
	return append(args, "--secret-key-file", path)
}

// stop sends SIGTERM and returns the exit code.
func (p *serverProc) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		// SIGQUIT first: the Go runtime dumps every goroutine to stderr,
		// which the log holds, so a hung shutdown shows where it hangs.
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
		}
		time.Sleep(time.Second) // the log reader is still copying the dump
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

// python3 returns the interpreter; without it the test skips, or fails
// under CI=true.
func python3(t *testing.T) string {
	t.Helper()
	return testkit.Tool(t, "the Python client test needs it", "python3")
}

// postJSON posts a JSON-RPC call and decodes the envelope.
func postJSON(t *testing.T, c *http.Client, url string, params any) map[string]any {
	t.Helper()
	resp, err := c.Post(url, "application/json", bytes.NewReader(testkit.CallBody(t, params)))
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

// json2 posts a JSON-2 call (POST /json/2/<model>/<method>) with an API
// key and returns the HTTP status and the decoded answer.
func json2(t *testing.T, url, key, model, method string, body map[string]any) (int, any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url+"/json/2/"+model+"/"+method, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "bearer "+key)
	resp, out := testkit.Do(t, http.DefaultClient, req)
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("POST /json/2/%s/%s: status %d, undecodable body %q", model, method, resp.StatusCode, out)
	}
	return resp.StatusCode, v
}

// kill sends SIGKILL, as a crash would, and waits for the process to go.
func (p *serverProc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not die on SIGKILL")
	}
}

// logRecords returns the JSON log records whose msg is msg.
func (p *serverProc) logRecords(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(p.log.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// logValue returns attribute key of the first log record with message
// msg, failing the test when there is none.
func (p *serverProc) logValue(t *testing.T, msg, key string) string {
	t.Helper()
	recs := p.logRecords(msg)
	if len(recs) == 0 {
		t.Fatalf("no log record %q", msg)
	}
	v, _ := recs[0][key].(string)
	return v
}

// odoo is an authenticated JSON-RPC client of a running server, calling
// object.execute_kw as an Odoo script would.
type odoo struct {
	t      *testing.T
	url    string
	db, pw string
	uid    int64
}

// login authenticates user admin over /jsonrpc.
func login(t *testing.T, srv *serverProc, db, pw string) *odoo {
	t.Helper()
	res := postJSON(t, http.DefaultClient, srv.url()+"/jsonrpc", map[string]any{"service": "common", "method": "login", "args": []any{db, "admin", pw}})
	uid, ok := res["result"].(float64)
	if !ok || uid == 0 {
		t.Fatalf("login: %v", res)
	}
	return &odoo{t: t, url: srv.url(), db: db, pw: pw, uid: int64(uid)}
}

// try calls model.method and returns the result or the JSON-RPC error.
func (o *odoo) try(model, method string, args []any, kwargs map[string]any) (any, error) {
	o.t.Helper()
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	res := postJSON(o.t, http.DefaultClient, o.url+"/jsonrpc", map[string]any{"service": "object", "method": "execute_kw",
		"args": []any{o.db, o.uid, o.pw, model, method, args, kwargs}})
	if e, ok := res["error"]; ok {
		b, _ := json.Marshal(e)
		return nil, &rpcError{msg: string(b)}
	}
	return res["result"], nil
}

type rpcError struct{ msg string }

func (e *rpcError) Error() string { return e.msg }

// call is try failing the test on an error.
func (o *odoo) call(model, method string, args []any, kwargs map[string]any) any {
	o.t.Helper()
	res, err := o.try(model, method, args, kwargs)
	if err != nil {
		o.t.Fatalf("%s.%s: %v", model, method, err)
	}
	return res
}

// create returns the id of a new record.
func (o *odoo) create(model string, vals map[string]any) int64 {
	o.t.Helper()
	id, ok := o.call(model, "create", []any{vals}, nil).(float64)
	if !ok {
		o.t.Fatalf("%s.create returned no id", model)
	}
	return int64(id)
}

// searchRead returns the records of model matching domain.
func (o *odoo) searchRead(model string, domain []any, fields ...string) []map[string]any {
	o.t.Helper()
	if domain == nil {
		domain = []any{}
	}
	res, _ := o.call(model, "search_read", []any{domain}, map[string]any{"fields": fields}).([]any)
	out := make([]map[string]any, len(res))
	for i, r := range res {
		out[i], _ = r.(map[string]any)
	}
	return out
}

// count is search_count.
func (o *odoo) count(model string, domain []any) int {
	o.t.Helper()
	n, _ := o.call(model, "search_count", []any{domain}, nil).(float64)
	return int(n)
}

// startMosquitto runs a test Mosquitto with persistence on, so a
// persistent session's queue survives our server, and no limit on that
// queue, so nothing the tests count is dropped by the broker.
func startMosquitto(t *testing.T) *testmqtt.Broker {
	t.Helper()
	return testmqtt.Start(t, testmqtt.Options{Persistence: true, Config: []string{"max_queued_messages 0"}})
}

// pythonPaho returns Debian's /usr/bin/python3 when it has paho-mqtt
// (python3-paho-mqtt installs there, not in a pyenv interpreter). Under
// CI=true a missing module fails the test, elsewhere it skips.
func pythonPaho(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	out, err := exec.Command(py, "-c", "import paho.mqtt.client").CombinedOutput()
	if err != nil {
		testkit.Missing(t, fmt.Sprintf("%s cannot import paho.mqtt, which the Python device test needs (apt-get install python3-paho-mqtt): %v\n%s", py, err, out))
	}
	return py
}

// pyDevice is a running Python device: lines from its stdout, commands to
// its stdin. It is killed when the test ends if it has not exited.
type pyDevice struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *testkit.Buffer
}

func startPyDevice(t *testing.T, py string, args ...string) *pyDevice {
	t.Helper()
	d := &pyDevice{t: t, cmd: exec.Command(py, args...), lines: make(chan string, 100), stderr: &testkit.Buffer{}}
	d.cmd.Stderr = d.stderr
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if d.stdin, err = d.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends with the device's stdout
		defer close(d.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
	})
	return d
}

// next is the device's next line of output.
func (d *pyDevice) next() string {
	d.t.Helper()
	return d.line(d.t, 30*time.Second)
}

// line is the next line of output within limit; t fails otherwise.
func (d *pyDevice) line(t *testing.T, limit time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-d.lines:
		if !ok {
			t.Fatalf("the device exited early\n%s", d.stderr.String())
		}
		return l
	case <-time.After(limit):
		t.Fatalf("the device said nothing for %s\n%s", limit, d.stderr.String())
	}
	return ""
}

func (d *pyDevice) send(line string) {
	d.t.Helper()
	if _, err := io.WriteString(d.stdin, line+"\n"); err != nil {
		d.t.Fatalf("device stdin: %v", err)
	}
}

// wait closes stdin, reads the output to its end and waits for the exit;
// a device still running after limit is killed.
func (d *pyDevice) wait(limit time.Duration) error {
	d.stdin.Close()
	deadline := time.After(limit)
	for {
		select {
		case _, ok := <-d.lines:
			if ok {
				continue
			}
			return d.cmd.Wait()
		case <-deadline:
			d.cmd.Process.Kill()
			deadline = nil
		}
	}
}
