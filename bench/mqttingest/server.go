package main

// The server under test: the real binary, built from this checkout and run
// as a child process, so the figures include HTTP, the RPC codecs, the ORM
// and its SQL exactly as deployed.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

type server struct {
	cmd  *exec.Cmd
	addr string

	mu     sync.Mutex
	tail   []string // last stderr lines, shown if the server dies
	exited chan struct{}
	err    error // Wait's result, set before exited is closed
}

// startServer starts bin on db (a postgres:// URL or sqlite:PATH),
// returning once it logged "Listening".
func startServer(ctx context.Context, bin, db string) (*server, error) {
	cmd := exec.Command(bin, "--http-addr", "127.0.0.1:0", "--db", db, "--db-name", rpcDBName,
		"--admin-password", adminPassword, "--log-format", "json")
	// Not StderrPipe: through an io.Pipe, Wait returns only once the last
	// line of a crashing server has been read.
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		s.readLog(pr, ready)
	}()
	go func() {
		s.err = cmd.Wait()
		pw.Close()
		<-logDone
		close(s.exited)
	}()
	select {
	case s.addr = <-ready:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("server exited before listening (%v):\n%s", s.err, s.logTail())
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("server not listening after 60 s:\n%s", s.logTail())
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// readLog keeps the last lines of the server's JSON log and reports the
// address of its "Listening" line.
func (s *server) readLog(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.tail = append(s.tail, line)
		if len(s.tail) > 20 {
			s.tail = s.tail[1:]
		}
		s.mu.Unlock()
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
	}
	io.Copy(io.Discard, r) // after a too long line: keep the server unblocked
}

func (s *server) logTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

func (s *server) pid() int    { return s.cmd.Process.Pid }
func (s *server) url() string { return "http://" + s.addr }

// check reports a crash of the server as a functional failure. After a
// failed call (callErr != nil) it gives the server a second to be seen
// exiting, since a crash is the better explanation of the failure.
func (s *server) check(callErr error) error {
	crashed := func() error {
		return fmt.Errorf("%w: server exited (%v):\n%s", errFunctional, s.err, s.logTail())
	}
	select {
	case <-s.exited:
		return crashed()
	default:
	}
	if callErr == nil {
		return nil
	}
	select {
	case <-s.exited:
		return crashed()
	case <-time.After(time.Second):
		return callErr
	}
}

// stop interrupts the server and kills it after 10 s.
func (s *server) stop() {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
}

// buildServer builds ./server of the module this command belongs to into
// a temporary directory; cleanup removes it.
func buildServer(ctx context.Context) (bin string, cleanup func(), err error) {
	root, err := repoRoot()
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

// repoRoot is the directory holding go.mod (the module root), found with
// "go env GOMOD" so the command works from any sub-directory.
func repoRoot() (string, error) {
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
