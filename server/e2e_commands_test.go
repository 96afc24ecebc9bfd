package main

import (
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPythonDeviceCommands: iot.device.call over XML-RPC to a device
// played by Python's paho (testdata/e2e/command_device.py) through a real
// Mosquitto on MQTT 3.1.1, where the request id in the topics is the
// correlation: a command answered (call returns the answer), one that
// times out, and a persistent one sent when the device says online.
func TestPythonDeviceCommands(t *testing.T) {
	py := pythonPaho(t)
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			e := startCommandE2E(t, py, kind, "MQTTv311", "311")
			dev, x := e.dev, e.x

			res, err := x.call("iot.device", "call", []any{[]any{e.device}}, map[string]any{"name": "get_state", "params": map[string]any{"level": 3}, "timeout": 15})
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			m, _ := res.(map[string]any)
			params, _ := m["params"].(map[string]any)
			if m["method"] != "get_state" || params["level"] != int64(3) || m["device"] != "py-cmd" || m["protocol"] != "311" {
				t.Errorf("call = %#v", res)
			}
			cmd := e.lastCommand()
			if f := strings.Fields(dev.next()); len(f) != 4 || f[1] != "device/py-cmd/request/"+cmd["correlation_id"].(string) || f[2] != "-" || f[3] != "-" {
				t.Errorf("the device got %v: want the request on the topic of its id, no properties on 3.1.1", f)
			}
			if cmd["status"] != "succeeded" || !strings.Contains(cmd["response"].(string), `"device": "py-cmd"`) {
				t.Errorf("command = %v", cmd)
			}

			// No answer: a fault, the command timed out.
			if _, err := x.call("iot.device", "call", []any{[]any{e.device}}, map[string]any{"name": "ignore", "timeout": 1}); err == nil || !strings.Contains(err.Error(), "timed out") {
				t.Errorf("unanswered call: %v, want a fault saying it timed out", err)
			}
			dev.next() // its REQUEST line
			if cmd := e.lastCommand(); cmd["status"] != "timed_out" {
				t.Errorf("unanswered command = %v", cmd)
			}

			// Persistent: pending while the device is offline, sent when its
			// availability says online.
			dev.send("OFFLINE")
			e.waitConnected(false)
			id, err := x.call("iot.device", "call_async", []any{[]any{e.device}}, map[string]any{"name": "later", "persistent": true, "timeout": 60})
			if err != nil {
				t.Fatalf("call_async: %v", err)
			}
			if cmd := e.lastCommand(); cmd["status"] != "pending" || int64(cmd["id"].(float64)) != id {
				t.Errorf("persistent command to an offline device = %v (call_async = %v)", cmd, id)
			}
			dev.send("ONLINE")
			var cmd2 map[string]any
			testkit.Eventually(t, 20*time.Second, "the persistent command answered", func() bool {
				cmd2 = e.lastCommand()
				return cmd2["status"] == "succeeded"
			})
			if !strings.Contains(cmd2["response"].(string), `"method": "later"`) || cmd2["sent_at"] == false {
				t.Errorf("persistent command = %v", cmd2)
			}
			e.finish()
		})
	}
}

// TestPythonDeviceCommandsV5: the same device on MQTT 5 gets the response
// topic and the request id as Response Topic and Correlation Data, and
// answers with them.
func TestPythonDeviceCommandsV5(t *testing.T) {
	py := pythonPaho(t)
	e := startCommandE2E(t, py, modelstest.Kinds(t)[0], "MQTTv5", "5")
	res, err := e.x.call("iot.device", "call", []any{[]any{e.device}}, map[string]any{"name": "get_state", "timeout": 15})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if m, _ := res.(map[string]any); m["method"] != "get_state" || m["protocol"] != "5" {
		t.Errorf("call = %#v", res)
	}
	cmd := e.lastCommand()
	reqID := cmd["correlation_id"].(string)
	want := "REQUEST device/py-cmd/request/" + reqID + " device/py-cmd/response/" + reqID + " " + hex.EncodeToString([]byte(reqID))
	if got := e.dev.next(); got != want {
		t.Errorf("the device got %q, want %q", got, want)
	}
	if cmd["status"] != "succeeded" {
		t.Errorf("command = %v", cmd)
	}
	e.finish()
}

// commandE2E is a running server with a broker on a test Mosquitto, its
// listener connected, and the Python device online.
type commandE2E struct {
	t      *testing.T
	srv    *serverProc
	o      *odoo
	x      *xmlrpcClient
	dev    *pyDevice
	device int64 // the device's iot.device id
}

func startCommandE2E(t *testing.T, py, kind, protocol, devProtocol string) *commandE2E {
	mq := startMosquitto(t)
	srv := startServer(t, "--db", modelstest.DSN(t, kind), "--db-name", "e2e", "--admin-password", "pw")
	o := login(t, srv, "e2e", "pw")
	e := &commandE2E{t: t, srv: srv, o: o, x: newXMLRPC(t, srv, o)}
	o.create("mqtt.broker", map[string]any{"device_discovery": true, "name": "Mosquitto", "host": testmqtt.Host, "port": strconv.Itoa(mq.Port()), "protocol": protocol})
	if res := o.call("mqtt.service", "start_mqtt_service", nil, nil); res != true {
		t.Fatalf("start_mqtt_service = %v", res)
	}
	testkit.Eventually(t, 15*time.Second, "the broker connected", func() bool {
		return o.count("mqtt.broker", []any{[]any{"listener_state", "=", "connected"}}) == 1
	})
	e.dev = startPyDevice(t, py, filepath.Join("..", "testdata", "e2e", "command_device.py"), testmqtt.Host, strconv.Itoa(mq.Port()), "py-cmd", devProtocol)
	if l := e.dev.next(); l != "READY" {
		t.Fatalf("device: %q, want READY\n%s", l, e.dev.stderr.String())
	}
	e.dev.send("ONLINE")
	e.waitConnected(true)
	rows := o.searchRead("iot.device", []any{[]any{"identifier", "=", "py-cmd"}}, "id")
	e.device = int64(rows[0]["id"].(float64))
	return e
}

// waitConnected waits for the device to be discovered online or offline.
func (e *commandE2E) waitConnected(online bool) {
	e.t.Helper()
	if online {
		if l := e.dev.next(); l != "ONLINE" {
			e.t.Fatalf("device: %q, want ONLINE", l)
		}
	} else if l := e.dev.next(); l != "OFFLINE" {
		e.t.Fatalf("device: %q, want OFFLINE", l)
	}
	testkit.Eventually(e.t, 15*time.Second, "py-cmd connected "+strconv.FormatBool(online), func() bool {
		return e.o.count("iot.device", []any{[]any{"identifier", "=", "py-cmd"}, []any{"connected", "=", online}}) == 1
	})
}

// lastCommand reads the newest command.
func (e *commandE2E) lastCommand() map[string]any {
	e.t.Helper()
	rows := e.o.searchRead("iot.command", nil, "status", "response", "correlation_id", "sent_at", "error")
	if len(rows) == 0 {
		e.t.Fatal("no command")
	}
	return rows[0]
}

// finish stops the device and the server.
func (e *commandE2E) finish() {
	e.t.Helper()
	e.dev.send("QUIT")
	if err := e.dev.wait(30 * time.Second); err != nil {
		e.t.Errorf("device exit: %v\n%s", err, e.dev.stderr.String())
	}
	if code := e.srv.stop(e.t); code != 0 {
		e.t.Errorf("exit code after SIGTERM = %d", code)
	}
}

// xmlrpcClient calls execute_kw over /xmlrpc/2/object, as an Odoo
// integrator's script does.
type xmlrpcClient struct {
	c *xmlrpc.Client
	o *odoo
}

func newXMLRPC(t *testing.T, srv *serverProc, o *odoo) *xmlrpcClient {
	t.Helper()
	c, err := xmlrpc.NewClient(srv.url()+"/xmlrpc/2/object", http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &xmlrpcClient{c: c, o: o}
}

func (x *xmlrpcClient) call(model, method string, args []any, kwargs map[string]any) (any, error) {
	var out any
	err := x.c.Call("execute_kw", []any{x.o.db, x.o.uid, x.o.pw, model, method, args, kwargs}, &out)
	return out, err
}
