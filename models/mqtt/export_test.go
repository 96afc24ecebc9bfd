package mqtt_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestExportData: export_data(ids, fields) answers Odoo 16's matrix:
// paths through many2one and one2many, .id and id, values in Odoo's
// export formats (display names, selection labels, raw booleans and
// numbers, "" for empty), one extra row per further x2many record, a
// many2many in one cell when import-compatible; the read rights and the
// Odoo errors for what a user may not read or a field that does not exist.
func TestExportData(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		broker := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "Plant", "port": "1884"}).(int64)
		bare := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "Bare"}).(int64)
		s1 := exec(t, r, models.AdminUID, "mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": "a/#", "qos": int64(1)}).(int64)
		s2 := exec(t, r, models.AdminUID, "mqtt.subscription", "create", map[string]any{"broker_id": broker, "topic": "b/#"}).(int64)
		h1 := exec(t, r, models.AdminUID, "mqtt.signal.history", "create", map[string]any{"broker_id": broker, "subscription_id": s1,
			"topic": "a/t", "payload": "21.5", "direction": "receive", "retain": true, "qos": int64(1), "timestamp": "2026-01-02 03:04:05"}).(int64)
		h2 := exec(t, r, models.AdminUID, "mqtt.signal.history", "create", map[string]any{"broker_id": broker,
			"topic": "c", "payload": "x", "direction": "send", "timestamp": "2026-01-02 03:04:06"}).(int64)
		user := newUserIn(t, r, "exp-user", "pw-exp-user", mqtt.GroupUser)
		nobody := modelstest.CreateUser(t, r.Registry, "exp-nobody", "pw-exp-nobody")
		sid := func(id int64) string { return strconv.FormatInt(id, 10) }

		cases := []struct {
			name   string
			uid    int64
			model  string
			ids    []int64
			fields []string
			ctx    map[string]any
			want   [][]any
			kind   models.Kind // an error of this kind, when set
			msg    string
		}{
			{name: "plain fields and formats", model: "mqtt.signal.history", ids: []int64{h1, h2},
				fields: []string{"topic", "retain", "qos", "direction", "timestamp", "subscription_id"},
				want: [][]any{
					{"a/t", true, int64(1), "Received", "2026-01-02 03:04:05", displayName(t, r, "mqtt.subscription", s1)},
					{"c", false, int64(0), "Send", "2026-01-02 03:04:06", ""},
				}},
			{name: "many2one paths, .id and id", model: "mqtt.signal.history", ids: []int64{h1},
				fields: []string{".id", "id", "broker_id", "broker_id/port", "broker_id/.id", "broker_id/id", "subscription_id.id"},
				want: [][]any{{sid(h1), "__export__.mqtt_signal_history_" + sid(h1), "Plant", "1884", sid(broker),
					"__export__.mqtt_broker_" + sid(broker), sid(s1)}}},
			{name: "datetime in the context's time zone", model: "mqtt.signal.history", ids: []int64{h1},
				fields: []string{"timestamp"}, ctx: map[string]any{"tz": "Europe/Brussels"},
				want: [][]any{{"2026-01-02 04:04:05"}}},
			{name: "one2many rows", model: "mqtt.broker", ids: []int64{broker, bare},
				fields: []string{"name", "subscription_ids/topic", "subscription_ids/qos", "port"},
				want: [][]any{
					{"Plant", "a/#", int64(1), "1884"},
					{"", "b/#", int64(0), ""},
					{"Bare", "", "", "1883"},
				}},
			{name: "one2many names", model: "mqtt.broker", ids: []int64{broker},
				fields: []string{"subscription_ids", "name"},
				want:   [][]any{{displayName(t, r, "mqtt.subscription", s1), "Plant"}, {displayName(t, r, "mqtt.subscription", s2), ""}}},
			{name: "many2many in one cell (import_compat)", model: "res.users", ids: []int64{user},
				fields: []string{"login", "groups_id"},
				want:   [][]any{{"exp-user", joinedGroupNames(t, r, user)}}},
			{name: "no ids", model: "mqtt.broker", ids: nil, fields: []string{"name"}, want: [][]any{}},
			{name: "user reads", uid: user, model: "mqtt.broker", ids: []int64{bare}, fields: []string{"name"}, want: [][]any{{"Bare"}}},
			{name: "bad field", model: "mqtt.broker", ids: []int64{broker}, fields: []string{"name", "nope"},
				kind: models.KindKey, msg: "'nope'"},
			{name: "bad subfield", model: "mqtt.broker", ids: []int64{broker}, fields: []string{"subscription_ids/nope"},
				kind: models.KindKey, msg: "'nope'"},
			{name: "no read right", uid: nobody, model: "mqtt.broker", ids: []int64{broker}, fields: []string{"name"},
				kind: models.KindAccess},
			{name: "no read right, no ids", uid: nobody, model: "mqtt.broker", fields: []string{"name"}, kind: models.KindAccess},
			{name: "missing record", model: "mqtt.broker", ids: []int64{broker + 1000}, fields: []string{"name"}, kind: models.KindMissing},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				uid := c.uid
				if uid == 0 {
					uid = models.AdminUID
				}
				ids := make([]any, len(c.ids))
				for i, id := range c.ids {
					ids[i] = id
				}
				names := make([]any, len(c.fields))
				for i, f := range c.fields {
					names[i] = f
				}
				var kw map[string]any
				if c.ctx != nil {
					kw = map[string]any{"context": c.ctx}
				}
				res, err := r.Execute(context.Background(), models.Call{UID: uid, Model: c.model, Method: "export_data", Args: []any{ids, names}, Kwargs: kw})
				if c.kind != 0 {
					if err == nil || models.KindOf(err) != c.kind {
						t.Fatalf("err = %v (kind %v), want kind %v", err, models.KindOf(err), c.kind)
					}
					if c.msg != "" && err.Error() != c.msg {
						t.Errorf("message = %q, want %q", err.Error(), c.msg)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				d := res.(*models.Dict)
				got, _ := d.Get("datas")
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("datas =\n%#v\nwant\n%#v", got, c.want)
				}
			})
		}
	})
}

func displayName(t *testing.T, r *modelstest.App, model string, id int64) string {
	t.Helper()
	pairs := exec(t, r, models.AdminUID, model, "name_get", []any{id}).([]any)
	return fmt.Sprint(pairs[0].([]any)[1])
}

// joinedGroupNames is the user's groups' display names joined by commas,
// in the order read returns the ids (the many2many's).
func joinedGroupNames(t *testing.T, r *modelstest.App, uid int64) string {
	t.Helper()
	recs := exec(t, r, models.AdminUID, "res.users", "read", []any{uid}, []any{"groups_id"}).([]*models.Dict)
	v, _ := recs[0].Get("groups_id")
	out := ""
	for i, id := range v.([]int64) {
		if i > 0 {
			out += ","
		}
		out += displayName(t, r, "res.groups", id)
	}
	return out
}
