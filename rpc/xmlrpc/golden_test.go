package xmlrpc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodeGolden decodes request bodies produced by Python's
// xmlrpc.client.dumps (testdata/gen_golden.py) and compares them with the
// values Python's own loads saw, mapped to the Go rules.
func TestDecodeGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found %d golden requests, want at least 8: run testdata/gen_golden.py", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".xml")
		t.Run(name, func(t *testing.T) {
			body, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer body.Close()
			method, params, err := DecodeCall(body)
			if err != nil {
				t.Fatalf("DecodeCall: %v", err)
			}
			want := readJSONValue(t, strings.TrimSuffix(file, ".xml")+".json").(map[string]any)
			if method != want["method"] {
				t.Errorf("method = %q, want %q", method, want["method"])
			}
			if !equalValues(params, want["params"]) {
				t.Errorf("params =\n%s\nwant\n%s", show(params), show(want["params"]))
			}
		})
	}
}
