package mqtt_test

import (
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestBrokerTargetChangeClearsSecrets: a manager who points a broker at
// another destination (URL scheme, host, port, TLS server name) without
// giving its secrets again gets them cleared, so Check Connection cannot
// send the stored password to a listener of theirs (issue 9 item 4). A
// secret given in the same write is kept; a write of anything else, or
// of the same destination again, keeps them all. Checked through the
// listener's view, since read never returns secrets.
func TestBrokerTargetChangeClearsSecrets(t *testing.T) {
	certPEM, keyPEM := clientPair(t)
	otherCertPEM, otherKeyPEM := clientPair(t)
	type want struct{ password, header, key string }
	kept := want{"old-pw", "Bearer old", keyPEM}
	cases := []struct {
		name    string
		tls     bool // the broker has a client certificate and key
		write   map[string]any
		want    want
		wantErr string // a ValidationError containing this; nothing changes
	}{
		{name: "host", write: map[string]any{"host": "listener.example"}, want: want{}},
		{name: "port", write: map[string]any{"port": int64(1884)}, want: want{}},
		{name: "url scheme", write: map[string]any{"url_scheme": "ws://"}, want: want{}},
		{name: "tls server name", write: map[string]any{"tls_server_name": "listener.example"}, want: want{}},
		{name: "ca certificate", write: map[string]any{"ca_cert": otherCertPEM}, want: want{}},
		{name: "tls verification skipped", write: map[string]any{"tls_insecure": true}, want: want{}},
		{name: "websocket path", write: map[string]any{"ws_path": "/other"}, want: want{}},
		{name: "host with a new password", write: map[string]any{"host": "listener.example", "password": "new-pw"}, want: want{password: "new-pw"}},
		{name: "port with new headers", write: map[string]any{"port": "1884", "ws_headers": "Authorization: Bearer new"}, want: want{header: "Bearer new"}},
		{name: "unrelated fields", write: map[string]any{"name": "Renamed", "username": "other", "keepalive": int64(30), "client_id": "plant-1"}, want: kept},
		{name: "the same destination again", write: map[string]any{"url_scheme": "mqtts://", "host": "broker.plant", "port": "8883", "tls_server_name": false}, want: kept},
		{name: "host of a TLS broker, key not given", tls: true, write: map[string]any{"host": "listener.example"}, wantErr: "Client key (PEM)"},
		{name: "host of a TLS broker with a new key", tls: true, write: map[string]any{"host": "listener.example", "client_cert": otherCertPEM, "client_key": otherKeyPEM}, want: want{key: otherKeyPEM}},
		{name: "host of a TLS broker, certificate removed", tls: true, write: map[string]any{"host": "listener.example", "client_cert": false}, want: want{}},
	}
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		manager := newUserIn(t, r, "manager", "pw-manager", mqtt.GroupManager)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				vals := map[string]any{"name": "Plant", "url_scheme": "mqtts://", "host": "broker.plant", "port": "8883",
					"username": "plant", "password": "old-pw", "ws_headers": "Authorization: Bearer old"}
				if c.tls {
					vals["client_cert"], vals["client_key"] = certPEM, keyPEM
				}
				id := exec(t, r, models.AdminUID, "mqtt.broker", "create", vals).(int64)
				_, err := r.Execute(t.Context(), models.Call{UID: manager, Model: "mqtt.broker", Method: "write", Args: []any{[]any{id}, c.write}})
				expect := c.want
				if c.wantErr != "" {
					if models.KindOf(err) != models.KindValidation || !strings.Contains(err.Error(), c.wantErr) {
						t.Fatalf("write %v: %v, want a ValidationError naming %s", c.write, err, c.wantErr)
					}
					expect = kept
				} else if err != nil {
					t.Fatalf("write %v: %v", c.write, err)
				}
				if !c.tls && expect.key == keyPEM {
					expect.key = ""
				}
				cfg := brokerConfig(t, r, id)
				got := want{cfg.Password, cfg.WSHeaders["Authorization"], cfg.ClientKey}
				if got != expect {
					t.Errorf("after write %v: password %q, Authorization %q, key set %v; want %q, %q, key set %v",
						c.write, got.password, got.header, got.key != "", expect.password, expect.header, expect.key != "")
				}
				if cfg.SecretError != nil {
					t.Errorf("secret error %v", cfg.SecretError)
				}
				if cfg.Username != "plant" && c.write["username"] == nil {
					t.Errorf("username %q: only secrets are cleared", cfg.Username)
				}
			})
		}
	})
}

// TestWSHeadersSecret: the websocket headers, which may carry an
// Authorization, are write-only like the password (issue 9 item 9): an
// MQTT / User cannot read them, search on them or group by them, forms
// learn they are write-only from fields_get, and the listener still gets
// them.
func TestWSHeadersSecret(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		user := newUserIn(t, r, "mqtt-user", "pw-user", mqtt.GroupUser)
		id := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "WS", "url_scheme": "wss://",
			"ws_headers": "Authorization: Bearer top-secret"}).(int64)
		try := func(uid int64, method string, args []any, kwargs map[string]any) (any, error) {
			return r.Execute(t.Context(), models.Call{UID: uid, Model: "mqtt.broker", Method: method, Args: args, Kwargs: kwargs})
		}
		for _, uid := range []int64{user, models.AdminUID} {
			res, err := try(uid, "read", []any{[]any{id}, []any{"ws_headers"}}, nil)
			if err != nil {
				t.Fatalf("read as %d: %v", uid, err)
			}
			if v, _ := res.([]*models.Dict)[0].Get("ws_headers"); v != false {
				t.Errorf("read ws_headers as %d = %#v, want False", uid, v)
			}
			res, err = try(uid, "search_read", []any{[]any{}}, nil)
			if err != nil {
				t.Fatalf("search_read as %d: %v", uid, err)
			}
			if _, listed := res.([]*models.Dict)[0].Get("ws_headers"); listed {
				t.Errorf("search_read with every field lists ws_headers for %d", uid)
			}
			if _, err := try(uid, "search", []any{[]any{[]any{"ws_headers", "ilike", "Bearer"}}}, nil); models.KindOf(err) != models.KindValue {
				t.Errorf("search on ws_headers as %d: %v, want a ValueError", uid, err)
			}
			if _, err := try(uid, "read_group", []any{[]any{}, []any{"name"}, []any{"ws_headers"}}, nil); err == nil {
				t.Errorf("read_group by ws_headers as %d answered", uid)
			}
		}
		fg, err := try(user, "fields_get", []any{[]any{"ws_headers"}}, map[string]any{"attributes": []any{"exportable"}})
		if err != nil {
			t.Fatal(err)
		}
		attrs, _ := fg.(*models.Dict).Get("ws_headers")
		if exp, _ := attrs.(*models.Dict).Get("exportable"); exp != false {
			t.Errorf("fields_get ws_headers exportable = %v, want false (forms show it write-only)", exp)
		}
		if cfg := brokerConfig(t, r, id); cfg.WSHeaders["Authorization"] != "Bearer top-secret" {
			t.Errorf("listener headers %v", cfg.WSHeaders)
		}
	})
}
