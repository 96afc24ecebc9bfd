package web

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestJavaScript runs the unit tests of the pages' pure modules
// (testdata/js/*.test.mjs) with node's test runner. The pages themselves
// run in the browser tests; node is only a convenience here, so the test
// skips where it is not installed.
func TestJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	files, err := filepath.Glob("testdata/js/*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no JavaScript tests found: %v", err)
	}
	out, err := exec.Command(node, append([]string{"--test"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
}
