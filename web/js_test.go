package web

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

// TestJavaScript runs the unit tests of the pages' pure modules
// (testdata/js/*.test.mjs) with node's test runner. The pages themselves
// run in the browser tests. Without node the test skips, except under
// CI=true, where .ci/run installs Debian's nodejs and a skip would hide a
// broken setup.
func TestJavaScript(t *testing.T) {
	node := testkit.Tool(t, "the JavaScript unit tests need Debian's nodejs package (.ci/run installs it)", "node")
	files, err := filepath.Glob("testdata/js/*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no JavaScript tests found: %v", err)
	}
	out, err := exec.Command(node, append([]string{"--test"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
}
