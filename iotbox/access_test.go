package iotbox

import (
	"context"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestPollAccessRevoked: a long poll that began while its user could read
// devices does not hand out an event that comes after the right went
// (MQTT group removed: AccessError; archived or logged out: session
// expired); a poll whose user kept the right still gets it.
func TestPollAccessRevoked(t *testing.T) {
	f := newFixture(t, Options{PollTimeout: time.Minute})
	ctx := context.Background()
	exec := func(t *testing.T, model, method string, args ...any) any {
		t.Helper()
		res, err := f.reg.Execute(ctx, models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args})
		if err != nil {
			t.Fatalf("%s.%s: %v", model, method, err)
		}
		return res
	}
	gids, _ := exec(t, "res.groups", "search", []any{[]any{"xml_id", "=", mqtt.GroupUser}}).([]int64)
	if len(gids) != 1 {
		t.Fatalf("group %s: %v", mqtt.GroupUser, gids)
	}
	cases := []struct {
		name   string
		revoke func(t *testing.T, uid int64, sid string)
		code   int // 0: the event comes
		errNam string
	}{
		{"rights kept", func(*testing.T, int64, string) {}, 0, ""},
		{"MQTT group removed", func(t *testing.T, uid int64, _ string) {
			exec(t, "res.users", "write", []any{uid}, map[string]any{"groups_id": []any{[]any{int64(3), gids[0]}}})
		}, 200, "odoo.exceptions.AccessError"},
		{"user archived", func(t *testing.T, uid int64, _ string) {
			exec(t, "res.users", "write", []any{uid}, map[string]any{"active": false})
		}, 100, jsonrpc.NameSessionExpired},
		{"logged out", func(t *testing.T, _ int64, sid string) {
			if err := f.reg.DeleteSession(ctx, sid); err != nil {
				t.Fatal(err)
			}
		}, 100, jsonrpc.NameSessionExpired},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			login := "poller" + string(rune('a'+i))
			uid := modelstest.CreateUser(t, f.reg.Registry, login, "pw-"+login)
			exec(t, "res.users", "write", []any{uid}, map[string]any{"groups_id": []any{[]any{int64(4), gids[0]}}})
			sid := modelstest.Login(t, f.reg.Registry, login, "pw-"+login)
			device := "dev-" + login
			answer := make(chan reply, 1)
			go func() { answer <- f.do(t, EventPath, req{body: pollBody("s-"+login, 0, device), sid: sid}) }()
			f.waitPolling(t, 1)
			c.revoke(t, uid, sid)
			f.publish(t, device, "after")
			var r reply
			select {
			case r = <-answer:
			case <-time.After(waitLimit):
				t.Fatal("the poll did not answer")
			}
			if c.code == 0 {
				if ev := mustEvent(t, r); ev.Device != device {
					t.Fatalf("event of %s", ev.Device)
				}
				return
			}
			if r.Error == nil || r.Error.Code != c.code || r.Error.Data.Name != c.errNam {
				t.Fatalf("got %s, want error %d %s", r.raw, c.code, c.errNam)
			}
		})
	}
}
