// Package benchproc is what the benchmark commands share outside MQTT:
// the real server binary run as a child process, its PostgreSQL database,
// process figures (RSS, CPU time) from /proc, its /metrics, and the
// commands' exit handling.
package benchproc

// The server under test.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kolo/xmlrpc"
)

// Server is the server under test: the real binary, built from this
// checkout and run as a child process, so the figures include HTTP, the
// RPC codecs, the ORM and its SQL exactly as deployed.
type Server struct {
	child *Child
	Addr  string
}

// StartServer starts bin on db (a postgres:// URL or sqlite:PATH), with
// extra flags after the ones every bench passes, returning once it logged
// "Listening".
func StartServer(ctx context.Context, bin, dbURL string, extra ...string) (*Server, error) {
	args := append([]string{"--http-addr", "127.0.0.1:0", "--db", dbURL, "--db-name", DBName,
		"--admin-password", AdminPassword, "--log-format", "json",
		// Every bench client comes from 127.0.0.1: one address, so no
		// per-address cap (the fan-out opens 1,000 websockets).
		"--max-requests-per-addr", "0", "--max-streams-per-addr", "0"}, extra...)
	cmd := exec.Command(bin, args...)
	// The flags say everything: our own variables in the caller's
	// environment (ODOO_IOT_MQTT_TEST_PG, say) must not reach the server,
	// which refuses unknown ones.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ODOO_IOT_MQTT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	ready := make(chan string, 1)
	child, err := StartChild(cmd, false, func(line string) {
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "Listening" && rec.Addr != "" {
			select {
			case ready <- rec.Addr:
			default:
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &Server{child: child}
	select {
	case s.Addr = <-ready:
		return s, nil
	case <-child.Exited():
		return nil, fmt.Errorf("server exited before listening (%v):\n%s", child.err, s.LogTail())
	case <-time.After(60 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("server not listening after 60 s:\n%s", s.LogTail())
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
}

// LogTail is the last lines of the server's JSON log.
func (s *Server) LogTail() string { return s.child.LogTail() }

func (s *Server) PID() int    { return s.child.PID() }
func (s *Server) URL() string { return "http://" + s.Addr }

// Check reports a crash of the server as a functional failure. After a
// failed call (callErr != nil) it gives the server a second to be seen
// exiting, since a crash is the better explanation of the failure.
func (s *Server) Check(callErr error) error {
	crashed := func() error { return fmt.Errorf("%w: %w", ErrFunctional, s.child.ExitError("server")) }
	select {
	case <-s.child.Exited():
		return crashed()
	default:
	}
	if callErr == nil {
		return nil
	}
	select {
	case <-s.child.Exited():
		return crashed()
	case <-time.After(time.Second):
		return callErr
	}
}

// Kill ends the server with SIGKILL, as a crash would.
func (s *Server) Kill() { s.child.Kill() }

// Stop interrupts the server and kills it after 10 s.
func (s *Server) Stop() { s.child.Stop(10 * time.Second) }

// BuildServer builds ./server of the module this command belongs to into
// a temporary directory; cleanup removes it.
func BuildServer(ctx context.Context) (bin string, cleanup func(), err error) {
	root, err := RepoRoot()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "oim-bench-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, "odoo-iot-mqtt")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./server")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build server: %w\n%s", err, out)
	}
	return bin, cleanup, nil
}

// RepoRoot is the directory holding go.mod (the module root), found with
// "go env GOMOD" so the command works from any sub-directory.
func RepoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the odoo-iot-mqtt module")
	}
	return filepath.Dir(mod), nil
}

// DBName and AdminPassword are what the benchmarks start the server with.
const (
	DBName        = "bench"
	AdminPassword = "secret"
)

// ErrFunctional marks a wrong answer or a crash, as opposed to a slow
// figure: the benchmark commands exit non-zero only for it.
var ErrFunctional = errors.New("functional failure")

// Login authenticates as admin over XML-RPC (the way a Go integrator
// would, with kolo/xmlrpc) and returns the uid.
func Login(base string, transport http.RoundTripper) (int64, error) {
	common, err := xmlrpc.NewClient(base+"/xmlrpc/2/common", transport)
	if err != nil {
		return 0, err
	}
	defer common.Close()
	var uid any
	if err := common.Call("authenticate", []any{DBName, "admin", AdminPassword, map[string]any{}}, &uid); err != nil {
		return 0, fmt.Errorf("authenticate: %w", err)
	}
	n, ok := uid.(int64)
	if !ok || n <= 0 {
		return 0, fmt.Errorf("%w: authenticate as admin returned %#v", ErrFunctional, uid)
	}
	return n, nil
}
