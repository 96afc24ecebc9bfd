package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPasswdCommand: `odoo-iot-mqtt passwd` resets admin's password in a
// database the server created, on SQLite and PostgreSQL, while the server
// runs; the server then takes the new password and refuses the old one.
// A restart that passes --admin-password again logs that the flag was not
// applied (issue 9, item 14).
func TestPasswdCommand(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			dsn := modelstest.DSN(t, kind)
			args := []string{"--db", dsn, "--db-name", "pw", "--admin-password", "first-pw"}
			srv := startServer(t, args...)
			if n := len(srv.logRecords(ignoredAdminPassword)); n != 0 {
				t.Errorf("new database: %d warnings that --admin-password was ignored", n)
			}
			loginAs := func(srv *serverProc, pw string) any {
				return postJSON(t, http.DefaultClient, srv.url()+"/jsonrpc", map[string]any{"service": "common", "method": "login", "args": []any{"pw", "admin", pw}})["result"]
			}
			if uid := loginAs(srv, "first-pw"); uid != float64(2) {
				t.Fatalf("login with the first password = %v", uid)
			}

			out, errOut, code := runPasswdBinary(t, "new-pw\n", "passwd", "--db", dsn, "--log-format", "json")
			if code != 0 || !strings.Contains(out, "Password of user admin (uid 2) changed") {
				t.Fatalf("passwd: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			testkit.Eventually(t, 30*time.Second, "the running server to take the new password", func() bool {
				return loginAs(srv, "new-pw") == float64(2)
			})
			if uid := loginAs(srv, "first-pw"); uid != false {
				t.Errorf("login with the old password = %v, want false", uid)
			}
			srv.stop(t)

			srv = startServer(t, args...)
			if n := len(srv.logRecords(ignoredAdminPassword)); n != 1 {
				t.Errorf("restart with --admin-password: %d warnings that it was ignored, want 1:\n%s", n, srv.log.String())
			}
			if uid := loginAs(srv, "new-pw"); uid != float64(2) {
				t.Errorf("login with the new password after a restart = %v", uid)
			}
			srv.stop(t)
		})
	}
}

// ignoredAdminPassword is the start-up warning for an --admin-password
// that was not applied.
const ignoredAdminPassword = "Ignoring --admin-password: it only applies when the database is created, and this one exists; to change a password run odoo-iot-mqtt passwd [--login admin] with the same --db"

// TestPasswdCommandRefusals: what passwd refuses, with its exit status,
// and that it creates no database where there was none.
func TestPasswdCommandRefusals(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "pw.db")
	srv := startServer(t, "--db", dsn, "--admin-password", "first-pw")
	srv.stop(t)
	missing := filepath.Join(dir, "missing.db")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // in stdout or stderr
	}{
		{"help", "", []string{"passwd", "--help"}, 0, "Usage: odoo-iot-mqtt passwd [--login LOGIN] [flags]"},
		{"unknown user", "x\n", []string{"passwd", "--login", "nobody", "--db", dsn}, 1, "There is no user with login nobody."},
		{"system user", "x\n", []string{"passwd", "--login=__system__", "--db", dsn}, 1, "system user"},
		{"empty password", "\n", []string{"passwd", "--db", dsn}, 1, "no password on standard input"},
		{"no database", "x\n", []string{"passwd", "--db", "sqlite:" + missing}, 1, "no database at " + missing},
		{"login without a value", "", []string{"passwd", "--login"}, 2, "--login needs a value"},
		{"bad setting", "x\n", []string{"passwd", "--db", "mysql://x"}, 2, "--db"},
		{"one-dash flags", "again-pw\n", []string{"passwd", "-login", "admin", "-db", dsn}, 0, "Password of user admin (uid 2) changed"},
	}
	for _, tt := range tests {
		out, errOut, code := runPasswdBinary(t, tt.stdin, tt.args...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.name, code, out, errOut, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("passwd created %s: %v", missing, err)
	}
}

// runPasswdBinary runs the binary with args and stdin, and returns its
// stdout, stderr and exit status.
func runPasswdBinary(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}
