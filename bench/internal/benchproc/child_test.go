package benchproc

import (
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// A child's output reaches onLine and the tail, and its exit is reported
// with the last lines.
func TestChildExit(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	c, err := StartChild(exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"), true, func(l string) {
		mu.Lock()
		seen = append(seen, l)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	<-c.Exited()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Errorf("onLine saw %q, want both lines", seen)
	}
	msg := c.ExitError("sh").Error()
	for _, want := range []string{"sh exited (exit status 3)", "out", "err"} {
		if !strings.Contains(msg, want) {
			t.Errorf("ExitError = %q, want it to hold %q", msg, want)
		}
	}
}

// Stop ends a child that ignores the interrupt by killing it.
func TestChildStopKills(t *testing.T) {
	c, err := StartChild(exec.Command("sh", "-c", "trap '' INT; echo ready; exec sleep 60"), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Stop(100 * time.Millisecond)
	select {
	case <-c.Exited():
	default:
		t.Fatal("Stop returned before the child exited")
	}
}
