package iotdevice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

func TestDeviceActions(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newDeviceFixture(t, r, nil)
		f.ingest(f.msg("device/lamp-1/info", lampInfo, 0), f.msg("device/esp/telemetry/t", "1", 0))
		lamp, esp := f.device("lamp-1")["id"], f.device("esp")["id"]
		ctx := context.Background()
		act := func(uid int64, method string, id any, kwargs map[string]any) (any, error) {
			return r.Execute(ctx, models.Call{UID: uid, Model: "iot.device", Method: method, Args: []any{[]any{id}}, Kwargs: kwargs})
		}
		if _, err := act(models.AdminUID, "action", lamp, map[string]any{"data": `{"action":"toggle"}`}); models.KindOf(err) != models.KindUser {
			t.Errorf("without MQTT: %v, want a UserError", err)
		}
		ctl := &modelstest.Control{}
		r.ctl = ctl

		tests := []struct {
			name, method string
			id           any
			kwargs       map[string]any
			topic        string // "" = refused
			payload      string
			retain       bool
		}{
			{"JSON string, as /hw_drivers/action", "action", lamp, map[string]any{"data": `{"action":"toggle"}`}, "device/lamp-1/action/toggle", `{"action":"toggle"}`, false},
			{"dict", "action", lamp, map[string]any{"data": map[string]any{"action": "switch", "state": "on"}}, "device/lamp-1/action/switch", `{"action":"switch","state":"on"}`, false},
			{"unknown action", "action", lamp, map[string]any{"data": `{"action":"dance"}`}, "", "", false},
			{"generic device", "action", esp, map[string]any{"data": map[string]any{"read": true}}, "device/esp/action/command", `{"read":true}`, false},
			{"bad data", "action", esp, map[string]any{"data": int64(3)}, "", "", false},
			{"push_config dict", "push_config", esp, map[string]any{"config": map[string]any{"interval": int64(30)}}, "device/esp/config", `{"interval":30}`, true},
			{"push_config text", "push_config", lamp, map[string]any{"config": `{"night":true}`}, "device/lamp-1/config", `{"night":true}`, true},
			{"push_config not JSON", "push_config", lamp, map[string]any{"config": `night`}, "", "", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctl.TakePublished()
				res, err := act(models.AdminUID, tc.method, tc.id, tc.kwargs)
				pubs := ctl.TakePublished()
				if tc.topic == "" {
					if k := models.KindOf(err); k != models.KindUser && k != models.KindValue || len(pubs) != 0 {
						t.Errorf("= %v, %v, published %v; want refused, nothing sent", res, err, pubs)
					}
					return
				}
				if err != nil || res != true {
					t.Fatalf("= %v, %v", res, err)
				}
				if len(pubs) != 1 || pubs[0].Topic != tc.topic || string(pubs[0].Payload) != tc.payload || pubs[0].Retain != tc.retain || pubs[0].QoS != 1 {
					t.Errorf("published %+v, want %s %s retain %v", pubs, tc.topic, tc.payload, tc.retain)
				}
				hist := f.exec(models.AdminUID, "mqtt.signal.history", "search_read", []any{[]any{[]any{"topic", "=", tc.topic}, []any{"direction", "=", "send"}}, []any{"payload", "broker_id"}}, nil).([]*models.Dict)
				if len(hist) == 0 {
					t.Errorf("not in the send history")
				}
			})
		}

		ctl.PublishErr = fmt.Errorf("broker unreachable")
		if _, err := act(models.AdminUID, "action", lamp, map[string]any{"data": "toggle"}); models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("broker down: %v, want a UserError saying why", err)
		}
	})
}

func TestDeviceAccess(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *app) {
		f := newDeviceFixture(t, r, nil)
		r.ctl = &modelstest.Control{}
		f.ingest(f.msg("device/lamp-1/info", lampInfo, 0))
		lamp := f.device("lamp-1")["id"]
		group := func(xmlID string) int64 {
			ids := f.exec(models.Superuser, "res.groups", "search", []any{[]any{[]any{"xml_id", "=", xmlID}}}, nil).([]int64)
			return ids[0]
		}
		user := func(login, g string) int64 {
			return f.exec(models.Superuser, "res.users", "create", []any{map[string]any{"name": login, "login": login,
				"groups_id": []any{[]any{int64(4), group(g)}}}}, nil).(int64)
		}
		internal, mqttUser, manager := user("internal", models.GroupUser), user("mqttuser", mqtt.GroupUser), user("manager", mqtt.GroupManager)
		ctx := context.Background()
		try := func(uid int64, method string, args []any, kwargs map[string]any) error {
			_, err := r.Execute(ctx, models.Call{UID: uid, Model: "iot.device", Method: method, Args: args, Kwargs: kwargs})
			return err
		}
		ids := []any{lamp}
		tests := []struct {
			name   string
			uid    int64
			method string
			args   []any
			kwargs map[string]any
			ok     bool
		}{
			{"internal user reads", internal, "read", []any{ids}, nil, false},
			{"internal user acts", internal, "action", []any{ids}, map[string]any{"data": "toggle"}, false},
			{"MQTT user reads", mqttUser, "read", []any{ids}, nil, true},
			{"MQTT user acts", mqttUser, "action", []any{ids}, map[string]any{"data": "toggle"}, true},
			{"MQTT user pushes a config", mqttUser, "push_config", []any{ids}, map[string]any{"config": "{}"}, true},
			{"MQTT user creates", mqttUser, "create", []any{map[string]any{"name": "n", "identifier": "n", "broker_id": f.broker}}, nil, false},
			{"MQTT user deletes", mqttUser, "unlink", []any{ids}, nil, false},
			{"manager creates", manager, "create", []any{map[string]any{"name": "n", "identifier": "n", "broker_id": f.broker}}, nil, true},
			{"duplicate identifier", manager, "create", []any{map[string]any{"name": "n", "identifier": "n", "broker_id": f.broker}}, nil, false},
			{"identifier not a level", manager, "create", []any{map[string]any{"name": "n", "identifier": "a/b", "broker_id": f.broker}}, nil, false},
		}
		for _, tc := range tests {
			err := try(tc.uid, tc.method, tc.args, tc.kwargs)
			if (err == nil) != tc.ok {
				t.Errorf("%s: %v", tc.name, err)
			}
			if !tc.ok && strings.HasPrefix(tc.name, "internal") && models.KindOf(err) != models.KindAccess {
				t.Errorf("%s: %v, want an AccessError", tc.name, err)
			}
		}
		if !r.CanSubscribe(ctx, mqttUser, iotdevice.ChannelDevices) || r.CanSubscribe(ctx, internal, iotdevice.ChannelDevices) {
			t.Errorf("the devices channel follows read access on iot.device")
		}
	})
}
