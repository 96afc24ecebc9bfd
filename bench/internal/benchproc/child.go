package benchproc

// A child process the bench starts (the server, Mosquitto): its output
// read line by line, the last lines kept for the error that reports its
// death, and a stop that interrupts, then kills.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Child is a started process.
type Child struct {
	cmd *exec.Cmd

	mu     sync.Mutex
	tail   []string // last output lines
	exited chan struct{}
	err    error // Wait's result, set before exited is closed
}

// StartChild starts cmd with its stderr, and its stdout too when
// withStdout, read line by line: onLine (when not nil) sees every line,
// on one goroutine. Not StderrPipe: through an io.Pipe, the process
// counts as exited only once its last line has been read.
func StartChild(cmd *exec.Cmd, withStdout bool, onLine func(string)) (*Child, error) {
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if withStdout {
		cmd.Stdout = pw
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Child{cmd: cmd, exited: make(chan struct{})}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		c.readLog(pr, onLine)
	}()
	go func() {
		c.err = cmd.Wait()
		pw.Close()
		<-logDone
		close(c.exited)
	}()
	return c, nil
}

func (c *Child) readLog(r io.Reader, onLine func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		c.mu.Lock()
		c.tail = append(c.tail, line)
		if len(c.tail) > 20 {
			c.tail = c.tail[1:]
		}
		c.mu.Unlock()
		if onLine != nil {
			onLine(line)
		}
	}
	io.Copy(io.Discard, r) // after a too long line: keep the process unblocked
}

// LogTail is the last lines of output.
func (c *Child) LogTail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

func (c *Child) PID() int { return c.cmd.Process.Pid }

// Exited is closed once the process exited and its output was read.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// ExitError describes the exit, with the last lines of output, for use
// once Exited is closed.
func (c *Child) ExitError(name string) error {
	return fmt.Errorf("%s exited (%v):\n%s", name, c.err, c.LogTail())
}

// Kill sends SIGKILL, as a crash would, and waits for the exit.
func (c *Child) Kill() {
	c.cmd.Process.Kill()
	<-c.exited
}

// Stop interrupts the process and kills it after grace.
func (c *Child) Stop(grace time.Duration) {
	select {
	case <-c.exited:
	default:
		c.cmd.Process.Signal(os.Interrupt)
		select {
		case <-c.exited:
		case <-time.After(grace):
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
}
