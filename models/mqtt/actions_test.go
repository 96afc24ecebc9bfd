package mqtt_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

func TestMQTTActions(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) { testMQTTActions(t, kind) })
	}
}

func testMQTTActions(t *testing.T, kind string) {
	ctl, notes := &modelstest.Control{}, &modelstest.Notes{}
	r := modelstest.NewFor(t, kind, modelstest.Options{Control: func() mqtt.BrokerControl { return ctl }, Notifier: notes})
	ctx := context.Background()
	call := func(model, method string, args ...any) (any, error) {
		return r.Execute(ctx, models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args})
	}
	read := func(model string, id int64, field string) any {
		res, err := call(model, "read", []any{id}, []any{field})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := res.([]*models.Dict)[0].Get(field)
		return v
	}
	b, err := call("mqtt.broker", "create", map[string]any{"name": "B", "host": "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	broker := b.(int64)
	if !reflect.DeepEqual(ctl.Changed, []int64{broker}) {
		t.Errorf("create told the service %v", ctl.Changed)
	}

	// check_connection: failure persisted and reported; success notified.
	ctl.CheckErr = errors.New("not authorized")
	_, err = call("mqtt.broker", "check_connection", []any{broker})
	if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "not authorized") {
		t.Errorf("failed check: %v", err)
	}
	if s := read("mqtt.broker", broker, "connection_status"); s != "fail" {
		t.Errorf("fail status not persisted: %v", s)
	}
	ctl.CheckErr = nil
	res, err := call("mqtt.broker", "action_check_connection", []any{broker})
	if err != nil || res.(map[string]any)["tag"] != "display_notification" {
		t.Errorf("check ok: %v %v", res, err)
	}
	if s := read("mqtt.broker", broker, "connection_status"); s != "success" {
		t.Errorf("success not persisted: %v", s)
	}
	if len(ctl.Changed) != 1 {
		t.Errorf("status writes must not restart the daemon: %v", ctl.Changed)
	}

	// subscribe while stopped: marked, subscribing; the daemon does it on connect.
	s, _ := call("mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": "cmd/lamp", "qos": int64(1)})
	sub := s.(int64)
	if ok, err := call("mqtt.subscription", "subscribe_mqtt", []any{sub}); ok != true || err != nil {
		t.Fatalf("subscribe while stopped: %v %v", ok, err)
	}
	if v := read("mqtt.subscription", sub, "subscription_status"); v != "subscribing" || len(ctl.Subscribed) != 0 {
		t.Errorf("status %v, subscribed %v", v, ctl.Subscribed)
	}
	// running: goes through the daemon; a refusal is persisted as fail.
	ctl.Running = true
	ctl.SubErr = errors.New("SUBACK return code 0x80")
	if _, err := call("mqtt.subscription", "subscribe", []any{sub}); models.KindOf(err) != models.KindUser {
		t.Errorf("refused subscribe: %v", err)
	}
	if v := read("mqtt.subscription", sub, "subscription_status"); v != "fail" {
		t.Errorf("refused subscription status = %v", v)
	}
	ctl.SubErr = nil
	if _, err := call("mqtt.subscription", "subscribe", []any{sub}); err != nil {
		t.Fatal(err)
	}
	if v := read("mqtt.subscription", sub, "subscription_status"); v != "subscribed" || read("mqtt.subscription", sub, "subscription_time") == false {
		t.Errorf("after SUBACK: %v", v)
	}
	if _, err := call("mqtt.subscription", "unsubscribe", []any{sub}); err != nil {
		t.Fatal(err)
	}
	if v := read("mqtt.subscription", sub, "subscription_status"); v != "unsubscribed" {
		t.Errorf("after unsubscribe: %v", v)
	}

	// send: history only when the broker acknowledged.
	g, _ := call("mqtt.signal", "create", map[string]any{"broker_id": broker, "subscription_id": sub, "payload": "on", "qos": int64(1)})
	signal := g.(int64)
	notes.Reset()
	ctl.PublishErr = errors.New("timeout waiting for PUBACK")
	if _, err := call("mqtt.signal", "action_send_mqtt", []any{signal}); models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "Send signal Fail") {
		t.Errorf("failed send: %v", err)
	}
	if n, _ := call("mqtt.signal.history", "search_count", []any{}); n != int64(0) {
		t.Errorf("false history after a failed send: %v", n)
	}
	res, _ = call("mqtt.signal", "get_last_mqtt_send", signal)
	if res.(map[string]any)["success"] != false {
		t.Errorf("get_last_mqtt_send before any send: %v", res)
	}
	ctl.PublishErr = nil
	for i := 0; i < 2; i++ {
		if _, err := call("mqtt.signal", "action_send_mqtt", []any{signal}); err != nil {
			t.Fatal(err)
		}
	}
	if len(ctl.Published) != 2 || ctl.Published[0].Topic != "cmd/lamp" || ctl.Published[0].QoS != 1 {
		t.Errorf("published %v", ctl.Published)
	}
	// Each send is on the live channel, like a received message; the
	// failed one is not.
	var sent []*mqtt.MessageNote
	for _, n := range notes.All() {
		if m, ok := n.Payload.(*mqtt.MessageNote); ok && n.Channel == mqtt.ChannelRealtime {
			sent = append(sent, m)
		}
	}
	if len(sent) != 2 || sent[0].Direction != "send" || sent[0].Topic != "cmd/lamp" || sent[0].Payload != "on" || sent[0].SignalID != signal {
		t.Errorf("send notifications %+v", sent)
	}
	res, _ = call("mqtt.signal", "get_mqtt_send_stats", signal)
	if st := res.(map[string]any); st["total_sent"] != int64(2) || st["last_sent"] == false {
		t.Errorf("stats %v", st)
	}
	res, _ = call("mqtt.signal", "get_last_mqtt_send", signal)
	if d := res.(map[string]any); d["success"] != true || d["data"].(map[string]any)["payload"] != "on" {
		t.Errorf("last send %v", d)
	}
	res, _ = call("mqtt.signal", "action_auto_send_mqtt", []any{signal})
	if a := res.(map[string]any); a["tag"] != "auto_send_mqtt" || a["record_id"] != signal || a["last_sent_timestamp"] == false {
		t.Errorf("auto send action %v", a)
	}
	if v := read("mqtt.signal", signal, "send_at"); v == false {
		t.Errorf("send_at not set")
	}

	// service: the addon's status dicts.
	ctl.Running = false
	status := func() string {
		res, err := call("mqtt.service", "check_mqtt_status")
		if err != nil {
			t.Fatal(err)
		}
		return res.(map[string]any)["status"].(string)
	}
	if s := status(); s != "not_configured" {
		t.Errorf("no row: %v", s)
	}
	if ok, _ := call("mqtt.service", "start_mqtt_service"); ok != true {
		t.Fatalf("start: %v", ok)
	}
	if s := status(); s != "connecting" {
		t.Errorf("running, not connected: %v", s)
	}
	ctl.Connected = true
	if s := status(); s != "connected" {
		t.Errorf("connected: %v", s)
	}
	ctl.Running = false // the service died behind the row's back
	if s := status(); s != "error" {
		t.Errorf("dead service: %v", s)
	}
	if s := status(); s != "stopped" {
		t.Errorf("after error: %v", s)
	}
	call("mqtt.service", "start_mqtt_service")
	if should, _ := r.MQTT.ServiceShouldRun(ctx); !should {
		t.Errorf("a started service must start again at boot")
	}
	if ok, _ := call("mqtt.service", "restart_mqtt_service"); ok != true || !ctl.Running {
		t.Errorf("restart: %v running=%v", ok, ctl.Running)
	}
	if ok, _ := call("mqtt.service", "stop_mqtt_service"); ok != true || ctl.Running {
		t.Errorf("stop: %v", ok)
	}
	if should, _ := r.MQTT.ServiceShouldRun(ctx); should {
		t.Errorf("a stopped service must stay stopped at boot")
	}
	rows, _ := call("mqtt.service", "get_listener_status")
	if len(rows.([]any)) != 1 {
		t.Errorf("listener status rows: %v", rows)
	}
}

func TestBrokerOptionsValidation(t *testing.T) {
	r := newTestRegistry(t)
	env := testEnv(t, r)
	cases := map[string]map[string]any{
		"Last will topic":               {"will_topic": "a/+/b"},
		"Last will QoS":                 {"will_qos": int64(3)},
		"CA certificate":                {"ca_cert": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"},
		"Client certificate":            {"client_cert": "x"},
		"In-flight store folder":        {"store_type": "file"},
		"Websocket path":                {"ws_path": "mqtt"},
		"Websocket headers":             {"ws_headers": "no colon here"},
		"Retry delay factor":            {"reconnect_factor": 0.5},
		"Retry jitter":                  {"reconnect_jitter": 1.5},
		"Longest retry delay (s)":       {"reconnect_max": 1.0},
		"Largest payload (bytes)":       {"max_payload_size": int64(-1)},
		"Largest payload (bytes): must": {"max_payload_size": int64(mqtt.MaxPayloadLimit + 1)},
		"Shared group: 'a/b'":           {"shared_group": "a/b"},
		"Shared group: 'a+'":            {"shared_group": "a+"},
		"Shared group: '#'":             {"shared_group": "#"},
		"Shared group: 'a\\x00b'":       {"shared_group": "a\x00b"},
		"Shared group: ' '":             {"shared_group": " "},
		"Shared group: ' g'":            {"shared_group": " g"},
		"Shared group: at most 64":      {"shared_group": strings.Repeat("g", mqtt.MaxSharedGroup+1)},
	}
	for _, ok := range []string{"", "ingest", "g-1_x.y", strings.Repeat("g", mqtt.MaxSharedGroup)} {
		env.DB().SavePoint("sp_opt")
		_, err := tcreate(env, "mqtt.broker", map[string]any{"name": "x", "shared_group": ok})
		env.DB().RollbackTo("sp_opt")
		if err != nil {
			t.Errorf("shared group %q: %v", ok, err)
		}
	}
	for field, vals := range cases {
		vals["name"] = "x"
		env.DB().SavePoint("sp_opt")
		_, err := tcreate(env, "mqtt.broker", vals)
		env.DB().RollbackTo("sp_opt")
		if models.KindOf(err) != models.KindValidation || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
	}
}

// TestBrokerConfig: a broker record becomes the connection settings the
// listener gets.
func TestBrokerConfig(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	id, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{
		"name": "ok", "url_scheme": "wss://", "ws_headers": "Authorization: Bearer x\nX-A: 1", "protocol": "MQTTv31", "shared_group": "ingest"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := r.MQTT.BrokerConfigs(ctx, id.(int64))
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("configs %v, %v", cfgs, err)
	}
	cfg := cfgs[0]
	if cfg.Scheme != "wss" || cfg.Protocol != 3 || cfg.WSHeaders["X-A"] != "1" || cfg.Port != 1883 || cfg.ReconnectInitial.Seconds() != 5 ||
		cfg.MaxPayload != mqtt.DefaultMaxPayload || cfg.SharedGroup != "ingest" {
		t.Errorf("config %+v", cfg)
	}
}
