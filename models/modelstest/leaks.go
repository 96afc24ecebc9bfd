package modelstest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// CheckLeaks fails the test if goroutines started during it still run
// when it ends, after a grace period for connections and clients (paho,
// WebSocket) finishing their own teardown. Call it first in the test, so
// that its check runs after every other clean-up.
func CheckLeaks(t testing.TB) {
	t.Helper()
	before := goroutineStacks()
	t.Cleanup(func() {
		var extra []string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			extra = extra[:0]
			for id, stack := range goroutineStacks() {
				if _, old := before[id]; !old && !isTestRunner(stack) {
					extra = append(extra, stack)
				}
			}
			if len(extra) == 0 {
				return
			}
		}
		t.Errorf("%d goroutines outlived the test:\n%s", len(extra), strings.Join(extra, "\n\n"))
	})
}

// isTestRunner tells the testing package's own goroutines (parallel
// subtests, the runner of this test) from the test's.
func isTestRunner(stack string) bool {
	return strings.Contains(stack, "testing.(*T).Run") || strings.Contains(stack, "testing.tRunner")
}

// goroutineStacks returns the stack of every goroutine by its id.
func goroutineStacks() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		rest, ok := strings.CutPrefix(g, "goroutine ")
		if !ok {
			continue
		}
		if id, _, ok := strings.Cut(rest, " "); ok {
			out[id] = g
		}
	}
	return out
}
