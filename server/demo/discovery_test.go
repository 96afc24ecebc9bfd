package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestDemoDevicesDiscovered is the demo as a person sees it on the Devices
// page: the seeded broker's listener discovers the simulated devices as
// iot.device records, online; the lamp obeys iot.device.action; devices
// that leave go offline.
func TestDemoDevicesDiscovered(t *testing.T) {
	addr := testBroker(t)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	var svc *listener.Service
	reg := modelstest.New(t, modelstest.Options{Control: func() mqtt.BrokerControl { return svc }})
	svc = listener.New(reg.MQTT, reg.Devices, listener.Options{Logger: modelstest.Logger(t)})
	svcCtx, stopSvc := context.WithCancel(context.Background())
	svcDone := make(chan error, 1)
	go func() { svcDone <- svc.Run(svcCtx) }()
	defer func() {
		stopSvc()
		if err := <-svcDone; err != nil {
			t.Errorf("listener: %v", err)
		}
	}()

	ctx := context.Background()
	if _, err := Seed(ctx, reg.Registry, host, port); err != nil {
		t.Fatal(err)
	}
	call := func(model, method string, args []any, kwargs map[string]any) any {
		t.Helper()
		res, err := reg.Execute(ctx, models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args, Kwargs: kwargs})
		if err != nil {
			t.Fatalf("%s.%s: %v", model, method, err)
		}
		return res
	}
	call("mqtt.service", "start_mqtt_service", nil, nil)

	devCtx, stopDevices := context.WithCancel(context.Background())
	devDone := make(chan struct{})
	go func() {
		defer close(devDone)
		Run(devCtx, addr, Options{Logger: modelstest.Logger(t), Interval: 50 * time.Millisecond})
	}()
	defer func() { stopDevices(); <-devDone }()

	devices := func() map[string]map[string]any {
		rows := call("iot.device", "search_read", []any{[]any{}, []any{"identifier", "connected", "driver", "last_event", "last_values"}}, nil).([]*models.Dict)
		out := map[string]map[string]any{}
		for _, r := range rows {
			m := map[string]any{}
			r.Range(func(k string, v any) bool { m[k] = v; return true })
			out[m["identifier"].(string)] = m
		}
		return out
	}
	eventually := func(what string, cond func(map[string]map[string]any) bool) map[string]map[string]any {
		t.Helper()
		var d map[string]map[string]any
		if !testkit.Poll(15*time.Second, func() bool { d = devices(); return cond(d) }) {
			t.Fatalf("timed out waiting for %s; devices: %v", what, d)
		}
		return d
	}
	online := func(ids ...string) func(map[string]map[string]any) bool {
		return func(d map[string]map[string]any) bool {
			for _, id := range ids {
				if d[id] == nil || d[id]["connected"] != true || d[id]["last_values"] == false && id != LampID {
					return false
				}
			}
			return true
		}
	}
	found := eventually("the demo devices online with readings", online(ThermoID, ClimateID, LampID))
	// The ESP32 (seed 002 topics, one JSON record with every reading) is
	// on the demo's ESP32 broker, with its sensors.
	esp32Broker := call("mqtt.broker", "search", []any{[]any{[]any{"name", "=", ESP32BrokerName}}}, nil).([]int64)
	if len(esp32Broker) != 1 {
		t.Fatalf("ESP32 brokers = %v", esp32Broker)
	}
	esp := eventually("the ESP32 with its sensors", func(d map[string]map[string]any) bool {
		v, _ := d[ESP32ID]["last_values"].(string)
		return strings.Contains(v, `"temperature"`) && strings.Contains(v, `"humidity"`)
	})
	if rows := call("iot.device", "search_read", []any{[]any{[]any{"identifier", "=", ESP32ID}}, []any{"broker_id"}}, nil).([]*models.Dict); len(rows) != 1 {
		t.Fatalf("ESP32 devices = %d", len(rows))
	} else if b, _ := rows[0].Get("broker_id"); fmt.Sprint(b) != fmt.Sprint([]any{esp32Broker[0], ESP32BrokerName}) {
		t.Errorf("ESP32 on broker %v, want %d; device %v", b, esp32Broker[0], esp[ESP32ID])
	}
	if found[LampID]["driver"] != "smart_object" {
		t.Errorf("lamp driver = %v", found[LampID]["driver"])
	}

	lampState := func(d map[string]map[string]any) string {
		var ev struct{ Event, State string }
		s, _ := d[LampID]["last_event"].(string)
		if json.Unmarshal([]byte(s), &ev) != nil || ev.Event != "switch" {
			return ""
		}
		return ev.State
	}
	before := lampState(eventually("the lamp's state", func(d map[string]map[string]any) bool { return lampState(d) != "" }))
	want := map[string]string{"on": "off", "off": "on"}[before]
	if res := call("iot.device", "action", []any{[]any{found[LampID]["id"]}}, map[string]any{"data": `{"action":"toggle"}`}); res != true {
		t.Fatalf("action = %v", res)
	}
	eventually("the lamp to switch "+want, func(d map[string]map[string]any) bool { return lampState(d) == want })

	stopDevices()
	<-devDone
	eventually("the devices offline once they left", func(d map[string]map[string]any) bool {
		return d[ThermoID]["connected"] == false && d[ClimateID]["connected"] == false && d[LampID]["connected"] == false
	})
}
