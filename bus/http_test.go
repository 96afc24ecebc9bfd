package bus

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// post sends body to path with the session cookie sid ("" for none) and
// optional extra headers, and returns the status and decoded response.
func (e *env) post(path, sid, body string, header ...string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sid != "" {
		req.Header.Set("Cookie", "session_id="+sid)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, data := testkit.Do(e.t, nil, req)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("%s: Content-Type %q, body %s", path, ct, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		e.t.Fatalf("%s: response %s: %v", path, data, err)
	}
	return resp.StatusCode, out
}

// TestPeekNotifications: the polling fallback returns the allowed channels
// and the buffered notes above last, in the JSON-RPC envelope; it refuses
// anonymous callers and bad input with the errors rpc would send.
func TestPeekNotifications(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{MaxRequestBytes: 4096})
	admin := e.session(models.AdminUID)
	plain := e.session(e.plainUser("plain"))
	notes := e.publish(note(1), note(2), note(3))
	params := func(p string) string { return `{"jsonrpc":"2.0","method":"call","id":7,"params":` + p + `}` }

	t.Run("notifications", func(t *testing.T) {
		status, out := e.post("/websocket/peek_notifications", admin,
			params(`{"channels":["mqtt_realtime","broadcast"],"last":`+jsonInt(notes[0].ID)+`,"is_first_poll":true,"context":{}}`))
		if status != http.StatusOK || out["jsonrpc"] != "2.0" || out["id"] != float64(7) {
			t.Fatalf("status %d, envelope %v", status, out)
		}
		res, _ := out["result"].(map[string]any)
		if !slices.Equal(toStrings(res["channels"]), []string{mqtt.ChannelRealtime}) {
			t.Fatalf("channels %v", res["channels"])
		}
		got, _ := res["notifications"].([]any)
		if len(got) != 2 {
			t.Fatalf("notifications %v", got)
		}
		first := got[0].(map[string]any)
		msg := first["message"].(map[string]any)
		if first["id"] != float64(notes[1].ID) || msg["type"] != mqtt.NoteMessage || msg["payload"].(map[string]any)["n"] != float64(2) {
			t.Fatalf("first notification %v", first)
		}
	})
	t.Run("no rights", func(t *testing.T) {
		_, out := e.post("/websocket/peek_notifications", plain, params(`{"channels":["mqtt_realtime"],"last":0}`))
		res, _ := out["result"].(map[string]any)
		if len(toStrings(res["channels"])) != 0 || len(res["notifications"].([]any)) != 0 || res["channels"] == nil {
			t.Fatalf("user without MQTT groups got %v", out)
		}
	})

	errCases := []struct {
		name, sid, body string
		header          []string
		status, code    int
		dataName        string
	}{
		{"anonymous", "", params(`{"channels":[],"last":0}`), nil, 200, 100, jsonrpc.NameSessionExpired},
		{"stale session", strings.Repeat("0", 40), params(`{"channels":[],"last":0}`), nil, 200, 100, jsonrpc.NameSessionExpired},
		{"bad json", admin, `{"params":`, nil, 400, -32700, jsonrpc.NameBadRequest},
		{"not an object", admin, `[1]`, nil, 400, -32600, jsonrpc.NameBadRequest},
		{"params not an object", admin, `{"params":[1]}`, nil, 400, -32600, jsonrpc.NameBadRequest},
		{"too large", admin, params(`{"channels":["` + strings.Repeat("x", 5000) + `"],"last":0}`), nil, 413, 413, jsonrpc.NameTooLarge},
		{"non-string channel", admin, params(`{"channels":[1],"last":0}`), nil, 200, 200, jsonrpc.NameValueError},
		{"bad last", admin, params(`{"channels":[],"last":"x"}`), nil, 200, 200, jsonrpc.NameTypeError},
		{"missing last", admin, params(`{"channels":[]}`), nil, 200, 200, jsonrpc.NameTypeError},
		{"unknown argument", admin, params(`{"channels":[],"last":0,"x":1}`), nil, 200, 200, jsonrpc.NameTypeError},
		{"foreign origin", admin, params(`{"channels":[],"last":0}`), []string{"Origin", "https://evil.example.com"}, 403, 200, jsonrpc.NameAccessError},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			status, out := e.post("/websocket/peek_notifications", c.sid, c.body, c.header...)
			errObj, _ := out["error"].(map[string]any)
			data, _ := errObj["data"].(map[string]any)
			if status != c.status || errObj["code"] != float64(c.code) || data["name"] != c.dataName {
				t.Fatalf("status %d, response %v; want status %d code %d name %s", status, out, c.status, c.code, c.dataName)
			}
			for _, k := range []string{"debug", "message", "arguments", "context"} {
				if _, ok := data[k]; !ok {
					t.Fatalf("error data lacks %q: %v", k, data)
				}
			}
			if _, ok := out["result"]; ok {
				t.Fatalf("an error response with a result: %v", out)
			}
		})
	}
}

// TestPresenceAndHealth: update_bus_presence answers {} to a logged-in
// session; health answers {"status": "pass"}.
func TestPresenceAndHealth(t *testing.T) {
	modelstest.CheckLeaks(t)
	e := newEnv(t, modes(t)[0], Options{})
	status, out := e.post("/websocket/update_bus_presence", e.session(models.AdminUID),
		`{"jsonrpc":"2.0","method":"call","id":1,"params":{"inactivity_period":1200,"im_status_ids_by_model":{}}}`)
	if res, ok := out["result"].(map[string]any); status != 200 || !ok || len(res) != 0 {
		t.Fatalf("presence: %d %v", status, out)
	}
	if _, out := e.post("/websocket/update_bus_presence", "", `{"params":{}}`); out["error"].(map[string]any)["code"] != float64(100) {
		t.Fatalf("anonymous presence: %v", out)
	}
	resp, err := http.Get(e.srv.URL + "/websocket/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != `{"status":"pass"}` || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("health: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// A plain GET of /websocket is not a handshake.
	resp2, err := http.Get(e.srv.URL + "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusBadRequest {
		t.Fatalf("GET /websocket without upgrade: %d, want 400", resp2.StatusCode)
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
