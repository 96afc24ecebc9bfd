package main

import (
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPythonClient drives the real binary with Python's xmlrpc.client and
// plain JSON-RPC (testdata/e2e/odoo_client.py), on SQLite and PostgreSQL.
func TestPythonClient(t *testing.T) { runPythonChecks(t, "odoo_client.py", "e2e") }

// runPythonChecks runs testdata/e2e/SCRIPT against a real server on each
// database: the scripts print one line per check and exit 1 if any failed.
func runPythonChecks(t *testing.T, script, dbName string) {
	py := python3(t)
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			pw := dbName + "-admin-pw"
			srv := startServer(t, "--db", modelstest.DSN(t, kind), "--db-name", dbName, "--admin-password", pw)
			out, err := exec.Command(py, filepath.Join("..", "testdata", "e2e", script), srv.url(), dbName, pw).CombinedOutput()
			t.Logf("python client:\n%s", out)
			if err != nil {
				t.Fatalf("python client failed: %v", err)
			}
			if code := srv.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
		})
	}
}

// TestSessionsSurviveRestart: web sessions live in the database, so a
// restart (or a second instance) keeps users logged in.
func TestSessionsSurviveRestart(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "s.db")
	args := []string{"--db", dsn, "--db-name", "odoo", "--admin-password", "pw"}
	srv := startServer(t, args...)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res := postJSON(t, c, srv.url()+"/web/session/authenticate", map[string]any{"db": "odoo", "login": "admin", "password": "pw"})
	if res["result"] == nil {
		t.Fatalf("authenticate: %v", res)
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	srv2 := startServer(t, args...)
	// The cookie jar is keyed by host; both servers run on 127.0.0.1.
	res = postJSON(t, c, srv2.url()+"/web/session/get_session_info", map[string]any{})
	info, _ := res["result"].(map[string]any)
	if info == nil || info["uid"] != float64(2) {
		t.Fatalf("session after restart: %v", res)
	}
	srv2.stop(t)
}

// TestGeneratedAdminPassword: without --admin-password a new database gets
// a strong generated password, logged once.
func TestGeneratedAdminPassword(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	srv := startServer(t, "--db", dsn)
	logs := srv.log.String()
	i := strings.Index(logs, `"password":"`)
	if i < 0 {
		t.Fatalf("no generated password in the log:\n%s", logs)
	}
	pw := logs[i+len(`"password":"`):]
	pw = pw[:strings.IndexByte(pw, '"')]
	if len(pw) < 16 {
		t.Fatalf("weak generated password %q", pw)
	}
	res := postJSON(t, http.DefaultClient, srv.url()+"/jsonrpc", map[string]any{"service": "common", "method": "login", "args": []any{"odoo", "admin", pw}})
	if res["result"] != float64(2) {
		t.Fatalf("login with generated password: %v", res)
	}
	srv.stop(t)
	// On restart the password is not generated (nor printed) again.
	srv = startServer(t, "--db", dsn)
	if strings.Contains(srv.log.String(), `"password"`) {
		t.Errorf("password printed again on restart")
	}
	srv.stop(t)
}

// TestBadConfiguration: the binary refuses bad settings with a message that
// names the setting, and exit code 2.
func TestBadConfiguration(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--http-addr", "nope"}, "--http-addr"},
		{[]string{"--db", "mysql://x"}, "--db"},
		{[]string{"--max-request-bytes", "10"}, "--max-request-bytes"},
		{[]string{"--demo"}, "--demo: needs --embedded-broker"},
		{[]string{"--embedded-broker", "localhost"}, "--embedded-broker"},
	}
	for _, c := range cases {
		cmd := exec.Command(binary(t), c.args...)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), c.want) {
			t.Errorf("%v: err %v, output %q", c.args, err, out)
		}
	}
}
