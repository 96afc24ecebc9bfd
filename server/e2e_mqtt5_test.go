package main

// End-to-end proof of MQTT 5 (issue 10) through the real binary: a real
// Mosquitto, a device played by Debian's Python paho in MQTT 5
// (testdata/e2e/mqtt5_device.py), and the records made and read over
// XML-RPC with kolo's client, as an Odoo integrator's script would. Each
// case runs against an MQTT 3.1.1 and an MQTT 5 broker record on the same
// Mosquitto, so the 3.1.1 row shows what MQTT 5 changes.

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// v5Protocols are the broker records each case runs on: v5 says whether
// the record speaks MQTT 5.
var v5Protocols = []struct {
	proto string
	v5    bool
}{{"MQTTv311", false}, {"MQTTv5", true}}

// TestE2EMQTT5: on each database, one server and one Mosquitto with a
// 3.1.1 and an MQTT 5 broker record; per record a Python MQTT 5 device
// checks the PUBLISH properties stored, no_local, retain_handling 2 and a
// signal's properties on the wire.
func TestE2EMQTT5(t *testing.T) {
	py := pythonPaho(t)
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			mq := startMosquitto(t)
			srv := startServer(t, "--db", modelstest.DSN(t, kind), "--db-name", "e2e5", "--admin-password", "pw")
			x := dialV5RPC(t, srv, "e2e5", "pw")
			brokers := map[string]int64{}
			for _, p := range v5Protocols {
				brokers[p.proto] = x.create("mqtt.broker", map[string]any{"device_discovery": true, "name": p.proto, "host": testmqtt.Host,
					"port": strconv.Itoa(mq.Port()), "protocol": p.proto})
			}
			if res := x.call("mqtt.service", "start_mqtt_service", nil, nil); res != true {
				t.Fatalf("start_mqtt_service = %v", res)
			}
			// Connected daemons: subscribe_mqtt then subscribes through them
			// and returns after their SUBACK, so what follows is delivered.
			testkit.Eventually(t, 15*time.Second, "both listeners connected", func() bool {
				return len(x.searchRead("mqtt.broker", []any{[]any{"listener_state", "=", "connected"}}, "id")) == len(brokers)
			})
			for _, p := range v5Protocols {
				t.Run(p.proto, func(t *testing.T) {
					c := &v5Case{x: x, broker: brokers[p.proto], v5: p.v5, pre: "e2e5/" + p.proto,
						dev: startV5Device(t, py, mq.Port(), "py5-"+strings.ToLower(kind)+"-"+p.proto)}
					t.Run("properties stored", c.propertiesStored)
					t.Run("no_local", c.noLocal)
					t.Run("retain_handling", c.retainHandling)
					t.Run("signal properties", c.signalProperties)
				})
			}
			if code := srv.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
		})
	}
}

// v5Case is one broker record's run: its topics start with pre.
type v5Case struct {
	x      *v5RPC
	dev    *v5Device
	broker int64
	v5     bool
	pre    string
}

// subscribe creates a subscription of the case's broker with vals and
// subscribes it over RPC.
func (c *v5Case) subscribe(t *testing.T, vals map[string]any) int64 {
	t.Helper()
	vals["broker_id"] = c.broker
	vals["qos"] = 1
	id := c.x.on(t).create("mqtt.subscription", vals)
	if res := c.x.on(t).call("mqtt.subscription", "subscribe_mqtt", []any{[]any{id}}, nil); res != true {
		t.Fatalf("subscribe_mqtt %v = %v", vals, res)
	}
	return id
}

// receivedRow waits for the one receive row with payload on topic.
func (c *v5Case) receivedRow(t *testing.T, topic, payload string, fields ...string) map[string]any {
	t.Helper()
	domain := []any{[]any{"topic", "=", topic}, []any{"direction", "=", "receive"}, []any{"payload", "=", payload}}
	var rows []map[string]any
	testkit.Eventually(t, 15*time.Second, "the receive row "+payload+" on "+topic, func() bool {
		rows = c.x.on(t).searchRead("mqtt.signal.history", domain, fields...)
		return len(rows) > 0
	})
	if len(rows) != 1 {
		t.Fatalf("%d receive rows %q on %s, want 1: %v", len(rows), payload, topic, rows)
	}
	return rows[0]
}

// received counts the receive rows with payload on topic.
func (c *v5Case) received(t *testing.T, topic, payload string) int {
	return len(c.x.on(t).searchRead("mqtt.signal.history", []any{[]any{"topic", "=", topic}, []any{"direction", "=", "receive"},
		[]any{"payload", "=", payload}}, "id"))
}

// v5Corr is the correlation data the device sends: NUL, bytes that are
// never UTF-8, text.
const v5Corr = "\x00\xffcorr\x01\xfe"

// propertiesStored: the device's PUBLISH properties land in the history
// row exactly on MQTT 5 (user properties in order, a repeated name and
// non-ASCII kept, the correlation bytes, what the broker left of the
// expiry); on 3.1.1 the broker drops them and the row has none.
func (c *v5Case) propertiesStored(t *testing.T) {
	c.subscribe(t, map[string]any{"topic": c.pre + "/props/#"})
	topic := c.pre + "/props/meter"
	users := [][]string{{"unit", "°C"}, {"site", "Zürich – hall 2"}, {"unit", "K"}}
	c.dev.publish(t, map[string]any{"topic": topic, "payload": `{"t": 21.5}`, "props": map[string]any{
		"content_type": "application/json; charset=utf-8", "response_topic": c.pre + "/reply/7",
		"correlation_data_hex": hex.EncodeToString([]byte(v5Corr)), "message_expiry": 3600, "user_properties": users}})
	row := c.receivedRow(t, topic, `{"t": 21.5}`, "content_type", "response_topic", "correlation_data", "user_properties", "message_expiry", "qos")
	if !c.v5 {
		for _, f := range []string{"content_type", "response_topic", "correlation_data", "user_properties"} {
			if row[f] != false {
				t.Errorf("%s = %#v on 3.1.1, want false", f, row[f])
			}
		}
		if row["message_expiry"] != false && row["message_expiry"] != int64(0) {
			t.Errorf("message_expiry = %#v on 3.1.1, want none", row["message_expiry"])
		}
		return
	}
	if row["content_type"] != "application/json; charset=utf-8" || row["response_topic"] != c.pre+"/reply/7" || row["qos"] != int64(1) {
		t.Errorf("row = %v", row)
	}
	text, _ := row["user_properties"].(string)
	var got [][]string
	if err := json.Unmarshal([]byte(text), &got); err != nil || !reflect.DeepEqual(got, users) {
		t.Errorf("user_properties = %q (%v), want %q in that order", text, err, users)
	}
	b64, _ := row["correlation_data"].(string)
	if corr, err := base64.StdEncoding.DecodeString(b64); err != nil || string(corr) != v5Corr {
		t.Errorf("correlation_data = %q (%q, %v), want base64 of %q", b64, corr, err, v5Corr)
	}
	if e, _ := row["message_expiry"].(int64); e <= 0 || e > 3600 {
		t.Errorf("message_expiry = %#v, want 1..3600", row["message_expiry"])
	}
}

// noLocal: a signal sent on a topic the broker record subscribes with
// no_local_flag comes back on 3.1.1 (which has no such option) and not on
// MQTT 5. The device's marker, published after the signal's PUBACK, is
// delivered after the echo would be: once its row exists, a missing echo
// row means no echo.
func (c *v5Case) noLocal(t *testing.T) {
	topic := c.pre + "/nolocal"
	sub := c.subscribe(t, map[string]any{"topic": topic, "no_local_flag": true})
	sig := c.x.on(t).create("mqtt.signal", map[string]any{"broker_id": c.broker, "subscription_id": sub, "payload": "signal-echo", "qos": 1})
	if res := c.x.on(t).call("mqtt.signal", "action_send_mqtt", []any{[]any{sig}}, nil); res != true {
		t.Fatalf("action_send_mqtt = %v", res)
	}
	c.dev.publish(t, map[string]any{"topic": topic, "payload": "marker-nolocal"})
	c.receivedRow(t, topic, "marker-nolocal")
	want := 1
	if c.v5 {
		want = 0
	}
	if n := c.received(t, topic, "signal-echo"); n != want {
		t.Errorf("%d receive rows of our own signal, want %d", n, want)
	}
	if n := len(c.x.on(t).searchRead("mqtt.signal.history", []any{[]any{"signal_id", "=", sig}, []any{"direction", "=", "send"}}, "id")); n != 1 {
		t.Errorf("%d send rows, want 1", n)
	}
}

// retainHandling: a message retained before the subscription reaches a
// subscription with retain_handling 0, and one with 2 only on 3.1.1
// (which sends no retain handling). A marker published after the SUBACK
// bounds the wait as in noLocal.
func (c *v5Case) retainHandling(t *testing.T) {
	for _, rh := range []int{0, 2} {
		topic := c.pre + "/retained/rh" + strconv.Itoa(rh)
		c.dev.publish(t, map[string]any{"topic": topic, "payload": "retained", "retain": true})
		c.subscribe(t, map[string]any{"topic": topic, "retain_handling": rh})
		c.dev.publish(t, map[string]any{"topic": topic, "payload": "marker-retained"})
		c.receivedRow(t, topic, "marker-retained")
		want := 1
		if rh == 2 && c.v5 {
			want = 0
		}
		if n := c.received(t, topic, "retained"); n != want {
			t.Errorf("retain_handling %d: %d rows of the retained message, want %d", rh, n, want)
		}
	}
}

// signalProperties: a signal's content type, user properties and expiry
// reach the device on MQTT 5 exactly, and the send row keeps them; on
// 3.1.1 the device gets none and the send row says so.
func (c *v5Case) signalProperties(t *testing.T) {
	topic := c.pre + "/device/cmd"
	c.dev.subscribe(t, topic)
	sub := c.x.on(t).create("mqtt.subscription", map[string]any{"broker_id": c.broker, "topic": topic, "qos": 1}) // the signal's topic, not listened
	users := [][]string{{"origin", "odoo"}, {"origin", "erp – ü"}, {"k", ""}}
	usersJSON, _ := json.Marshal(users)
	sig := c.x.on(t).create("mqtt.signal", map[string]any{"broker_id": c.broker, "subscription_id": sub, "payload": `{"on": true}`, "qos": 1,
		"content_type": "application/json", "user_properties": string(usersJSON), "message_expiry": 120})
	if res := c.x.on(t).call("mqtt.signal", "action_send_mqtt", []any{[]any{sig}}, nil); res != true {
		t.Fatalf("action_send_mqtt = %v", res)
	}
	msg := c.dev.message(t, topic)
	if msg.PayloadHex != hex.EncodeToString([]byte(`{"on": true}`)) {
		t.Errorf("payload %s", msg.PayloadHex)
	}
	rows := c.x.on(t).searchRead("mqtt.signal.history", []any{[]any{"signal_id", "=", sig}, []any{"direction", "=", "send"}},
		"content_type", "user_properties", "message_expiry")
	if len(rows) != 1 {
		t.Fatalf("%d send rows, want 1", len(rows))
	}
	if !c.v5 {
		if len(msg.Props) != 0 {
			t.Errorf("the device got properties %v over a 3.1.1 record", msg.Props)
		}
		if rows[0]["content_type"] != false || rows[0]["user_properties"] != false {
			t.Errorf("send row %v on 3.1.1, want no properties", rows[0])
		}
		return
	}
	var got struct {
		ContentType    string     `json:"content_type"`
		UserProperties [][]string `json:"user_properties"`
		MessageExpiry  int        `json:"message_expiry"`
	}
	raw, _ := json.Marshal(msg.Props)
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(msg.Props) != 3 || got.ContentType != "application/json" || !reflect.DeepEqual(got.UserProperties, users) ||
		got.MessageExpiry <= 0 || got.MessageExpiry > 120 {
		t.Errorf("the device got properties %v, want content type, user properties %q and expiry 1..120", msg.Props, users)
	}
	if rows[0]["content_type"] != "application/json" || rows[0]["user_properties"] != string(usersJSON) || rows[0]["message_expiry"] != int64(120) {
		t.Errorf("send row %v", rows[0])
	}
}

// TestE2EMQTT5ReasonCodes: check_connection with a wrong password against
// a Mosquitto with a password file is the addon's UserError, fault 2 over
// XML-RPC, naming the CONNACK's reason code on MQTT 5 and paho's 3.1.1
// wording on 3.1.1; the record's connection_message says the same. The
// right password succeeds on both, so the failure is the password's.
func TestE2EMQTT5ReasonCodes(t *testing.T) {
	mq := testmqtt.Start(t, testmqtt.Options{Users: map[string]string{"plant": "s3cret"}})
	srv := startServer(t, "--db", modelstest.DSN(t, "sqlite"), "--db-name", "e2e5", "--admin-password", "pw")
	x := dialV5RPC(t, srv, "e2e5", "pw")
	cases := []struct {
		proto string
		v5    bool
		want  string
	}{
		{"MQTTv311", false, "refused the connection: not Authorized"},
		{"MQTTv5", true, "refused the connection: Not authorized (0x87)"},
	}
	refused := map[string]int64{} // the wrong password's broker by protocol
	for _, c := range cases {
		t.Run(c.proto, func(t *testing.T) {
			for _, pw := range []string{"s3cret", "nope"} {
				x := x.on(t)
				id := x.create("mqtt.broker", map[string]any{"device_discovery": true, "name": c.proto + " " + pw, "host": testmqtt.Host, "port": strconv.Itoa(mq.Port()),
					"protocol": c.proto, "username": "plant", "password": pw, "connect_timeout": 5})
				_, err := x.try("mqtt.broker", "check_connection", []any{[]any{id}}, nil)
				rec := x.searchRead("mqtt.broker", []any{[]any{"id", "=", id}}, "connection_status", "connection_message")[0]
				if pw == "s3cret" {
					if err != nil || rec["connection_status"] != "success" {
						t.Errorf("the right password: %v, record %v", err, rec)
					}
					continue
				}
				refused[c.proto] = id
				// kolo's client (net/rpc underneath) hands a fault over as
				// the text of kolo.FaultError.
				fault, isFault := strings.CutPrefix(v5ErrText(err), "Fault(2): ")
				if !isFault || !strings.Contains(fault, c.want) || !strings.HasPrefix(fault, "Failed to connect: ") {
					t.Errorf("check_connection with a wrong password: %v, want fault 2 'Failed to connect: ...%s...'", err, c.want)
				}
				msg, _ := rec["connection_message"].(string)
				if rec["connection_status"] != "fail" || !strings.Contains(msg, c.want) || "Failed to connect: "+msg != fault {
					t.Errorf("record %v, want fail with the fault's reason %q", rec, c.want)
				}
				if !c.v5 && strings.Contains(fault, "(0x") {
					t.Errorf("a 3.1.1 error names an MQTT 5 reason code: %q", fault)
				}
			}
		})
	}
	// The listener's status says the same: the refused daemons keep
	// retrying (reconnecting) with the CONNACK's reason in the broker's
	// last_error.
	if res := x.call("mqtt.service", "start_mqtt_service", nil, nil); res != true {
		t.Fatalf("start_mqtt_service = %v", res)
	}
	for _, c := range cases {
		id, ok := refused[c.proto]
		if !ok {
			continue // its subtest failed before
		}
		var rec map[string]any
		testkit.Eventually(t, 20*time.Second, c.proto+"'s listener to report the refusal", func() bool {
			rec = x.searchRead("mqtt.broker", []any{[]any{"id", "=", id}}, "listener_state", "last_error")[0]
			msg, _ := rec["last_error"].(string)
			return strings.Contains(msg, c.want)
		})
		if st := rec["listener_state"]; st == "connected" || st == "stopped" {
			t.Errorf("%s: listener_state %v with last_error %q", c.proto, st, rec["last_error"])
		}
		if msg, _ := rec["last_error"].(string); !c.v5 && strings.Contains(msg, "(0x") {
			t.Errorf("a 3.1.1 listener error names an MQTT 5 reason code: %q", msg)
		}
	}
	if code := srv.stop(t); code != 0 { // with its daemons between retries
		t.Errorf("exit code after SIGTERM = %d", code)
	}
}

// v5ErrText is err's text, "" for nil.
func v5ErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// v5RPC is an authenticated XML-RPC client of a running server: kolo's
// client on /xmlrpc/2/object, calling execute_kw as an Odoo script does.
type v5RPC struct {
	t      *testing.T
	obj    *kolo.Client
	db, pw string
	uid    int64
}

func dialV5RPC(t *testing.T, srv *serverProc, db, pw string) *v5RPC {
	t.Helper()
	common, err := kolo.NewClient(srv.url()+"/xmlrpc/2/common", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer common.Close()
	var uid int64
	if err := common.Call("authenticate", []any{db, "admin", pw, map[string]any{}}, &uid); err != nil || uid == 0 {
		t.Fatalf("authenticate over XML-RPC: %d, %v", uid, err)
	}
	obj, err := kolo.NewClient(srv.url()+"/xmlrpc/2/object", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obj.Close() })
	return &v5RPC{t: t, obj: obj, db: db, pw: pw, uid: uid}
}

// on is x failing t, for use in t's subtest (FailNow must run on the
// test's own goroutine).
func (x *v5RPC) on(t *testing.T) *v5RPC {
	y := *x
	y.t = t
	return &y
}

// try calls model.method and returns its result or the fault (the text
// of a kolo.FaultError, "Fault(CODE): STRING").
func (x *v5RPC) try(model, method string, args []any, kwargs map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	var res any
	err := x.obj.Call("execute_kw", []any{x.db, x.uid, x.pw, model, method, args, kwargs}, &res)
	return res, err
}

// call is try failing the test on a fault.
func (x *v5RPC) call(model, method string, args []any, kwargs map[string]any) any {
	x.t.Helper()
	res, err := x.try(model, method, args, kwargs)
	if err != nil {
		x.t.Fatalf("%s.%s: %v", model, method, err)
	}
	return res
}

func (x *v5RPC) create(model string, vals map[string]any) int64 {
	x.t.Helper()
	id, ok := x.call(model, "create", []any{vals}, nil).(int64)
	if !ok || id == 0 {
		x.t.Fatalf("%s.create(%v) returned no id", model, vals)
	}
	return id
}

func (x *v5RPC) searchRead(model string, domain []any, fields ...string) []map[string]any {
	x.t.Helper()
	res, _ := x.call(model, "search_read", []any{domain}, map[string]any{"fields": fields}).([]any)
	out := make([]map[string]any, len(res))
	for i, r := range res {
		out[i], _ = r.(map[string]any)
	}
	return out
}

// v5Device is a running testdata/e2e/mqtt5_device.py: commands go to its
// stdin, its JSON events come from its stdout.
type v5Device struct {
	*pyDevice
	msgs []v5Event // messages read while waiting for an acknowledgement
}

// v5Event is one line the device prints.
type v5Event struct {
	Event      string         `json:"event"`
	Topic      string         `json:"topic"`
	PayloadHex string         `json:"payload_hex"`
	Props      map[string]any `json:"props"`
	line       string
}

// startV5Device starts the device as client id on the test Mosquitto and
// waits for its CONNACK. It quits when the test ends.
func startV5Device(t *testing.T, py string, port int, id string) *v5Device {
	t.Helper()
	d := &v5Device{pyDevice: startPyDevice(t, py, filepath.Join("..", "testdata", "e2e", "mqtt5_device.py"), testmqtt.Host, strconv.Itoa(port), id)}
	t.Cleanup(func() {
		d.stdin.Write([]byte(`{"op": "quit"}` + "\n"))
		if err := d.wait(15 * time.Second); err != nil && !t.Failed() {
			t.Errorf("device %s exit: %v\n%s", id, err, d.stderr.String())
		}
	})
	d.await(t, "ready")
	return d
}

// next is the device's next event; an error event or its exit fails the
// test.
func (d *v5Device) next(t *testing.T) v5Event {
	t.Helper()
	ev := v5Event{line: d.line(t, 20*time.Second)}
	if err := json.Unmarshal([]byte(ev.line), &ev); err != nil || ev.Event == "error" {
		t.Fatalf("device: %s\n%s", ev.line, d.stderr.String())
	}
	return ev
}

// await reads events up to the acknowledgement kind, keeping messages.
func (d *v5Device) await(t *testing.T, kind string) {
	t.Helper()
	for {
		ev := d.next(t)
		if ev.Event == "message" {
			d.msgs = append(d.msgs, ev)
			continue
		}
		if ev.Event != kind {
			t.Fatalf("device: %s, want %s", ev.line, kind)
		}
		return
	}
}

func (d *v5Device) send(t *testing.T, cmd map[string]any, ack string) {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := d.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("to the device: %v\n%s", err, d.stderr.String())
	}
	d.await(t, ack)
}

// publish publishes at QoS 1 (unless cmd says) and returns after the
// PUBACK.
func (d *v5Device) publish(t *testing.T, cmd map[string]any) {
	t.Helper()
	cmd["op"] = "publish"
	if _, ok := cmd["qos"]; !ok {
		cmd["qos"] = 1
	}
	d.send(t, cmd, "published")
}

// subscribe subscribes at QoS 1 and returns after the SUBACK.
func (d *v5Device) subscribe(t *testing.T, topic string) {
	t.Helper()
	d.send(t, map[string]any{"op": "subscribe", "topic": topic, "qos": 1}, "subscribed")
}

// message waits for the message on topic; any other fails the test.
func (d *v5Device) message(t *testing.T, topic string) v5Event {
	t.Helper()
	var ev v5Event
	if len(d.msgs) > 0 {
		ev, d.msgs = d.msgs[0], d.msgs[1:]
	} else {
		ev = d.next(t)
	}
	if ev.Event != "message" || ev.Topic != topic {
		t.Fatalf("device: %s, want a message on %s", ev.line, topic)
	}
	return ev
}
