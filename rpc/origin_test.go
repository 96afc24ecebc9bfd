package rpc

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
)

// testCrossOrigin: the cookie-bearing /web routes refuse browser requests
// from foreign pages (CSRF), accept our own pages, listed origins and
// non-browser clients; /jsonrpc carries credentials in its body and is
// not subject to the check.
func testCrossOrigin(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.AllowedOrigins = []string{"https://erp.example.com"} })
	body := []byte(`{"jsonrpc":"2.0","method":"call","params":{},"id":1}`)
	cases := []struct {
		path, origin string
		want         int
	}{
		{"/web/webclient/version_info", "", http.StatusOK},
		{"/web/webclient/version_info", ts.URL, http.StatusOK},
		{"/web/webclient/version_info", "https://erp.example.com", http.StatusOK},
		{"/web/webclient/version_info", "https://evil.example", http.StatusForbidden},
		{"/web/dataset/call_kw", "https://evil.example", http.StatusForbidden},
		{"/web/session/authenticate", "null", http.StatusForbidden},
		{"/jsonrpc", "https://evil.example", http.StatusOK},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+c.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s from %q: HTTP %d, want %d: %s", c.path, c.origin, resp.StatusCode, c.want, out)
			continue
		}
		if c.want == http.StatusForbidden {
			var env struct {
				Error struct {
					Data struct{ Name, Message string }
				}
			}
			if json.Unmarshal(out, &env) != nil || env.Error.Data.Name != jsonrpc.NameAccessError || !strings.Contains(env.Error.Data.Message, "Cross-origin") {
				t.Errorf("%s from %q: body %s, want an AccessError envelope", c.path, c.origin, out)
			}
		}
	}
}
