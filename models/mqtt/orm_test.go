package mqtt_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// fixtures creates a broker, two subscriptions and a signal.
func fixtures(t *testing.T, env *models.Env) (broker, sub1, sub2, signal int64) {
	t.Helper()
	broker = mustCreate(t, env, "mqtt.broker", map[string]any{"name": "Plant A", "host": "127.0.0.1", "port": "1883", "password": "s3cret"})
	sub1 = mustCreate(t, env, "mqtt.subscription", map[string]any{"broker_id": broker, "topic": "sensors/+/temp", "qos": int64(1)})
	sub2 = mustCreate(t, env, "mqtt.subscription", map[string]any{"broker_id": broker, "topic": "cmd/lamp"})
	signal = mustCreate(t, env, "mqtt.signal", map[string]any{"broker_id": broker, "subscription_id": sub2, "payload": `{"on":true}`})
	return
}

func TestModelSuite(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		t.Run("read formats", func(t *testing.T) { testReadFormats(t, r) })
		t.Run("computed and related", func(t *testing.T) { testComputed(t, r) })
		t.Run("write unlink missing", func(t *testing.T) { testWriteUnlink(t, r) })
		t.Run("x2many commands", func(t *testing.T) { testX2many(t, r) })
		t.Run("validation", func(t *testing.T) { testValidation(t, r) })
		t.Run("access", func(t *testing.T) { testAccess(t, r) })
		t.Run("generic methods", func(t *testing.T) { testGenericMethods(t, r) })
		t.Run("read_group", func(t *testing.T) { testReadGroup(t, r) })
		t.Run("auth and sessions", func(t *testing.T) { testAuth(t, r) })
	})
}

func testReadFormats(t *testing.T, r *modelstest.App) {
	env := testEnv(t, r)
	broker, sub1, _, signal := fixtures(t, env)
	recs, err := env.Read(r.Model("mqtt.subscription"), []int64{sub1, 9999}, []string{"broker_id", "topic", "subscription_time", "qos", "subscribed", "display_name", "subscription_status"}, "_classic_read")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("read must drop missing ids: got %d records", len(recs))
	}
	got := map[string]any{}
	recs[0].Range(func(k string, v any) bool { got[k] = v; return true })
	want := map[string]any{
		"id": sub1, "broker_id": []any{broker, "Plant A"}, "topic": "sensors/+/temp",
		"subscription_time": false, "qos": int64(1), "subscribed": false,
		"display_name": "Plant A - sensors/+/temp", "subscription_status": "unsubscribed",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read = %#v\nwant %#v", got, want)
	}
	if keys := recs[0].Keys(); keys[0] != "id" {
		t.Errorf("id must come first, got %v", keys)
	}
	// load=None gives bare many2one ids; x2many read as id lists.
	recs, _ = env.Read(r.Model("mqtt.subscription"), []int64{sub1}, []string{"broker_id"}, "_classic_write")
	if v, _ := recs[0].Get("broker_id"); v != broker {
		t.Errorf("bare m2o = %#v", v)
	}
	recs, _ = env.Read(r.Model("mqtt.broker"), []int64{broker}, nil, "_classic_read")
	if v, _ := recs[0].Get("password"); v != nil {
		t.Errorf("password must not be among default read fields, got %#v", v)
	}
	if v, _ := recs[0].Get("subscription_ids"); len(v.([]int64)) != 2 {
		t.Errorf("one2many = %#v", v)
	}
	recs, _ = env.Read(r.Model("mqtt.broker"), []int64{broker}, []string{"password", "note", "create_date"}, "_classic_read")
	if v, _ := recs[0].Get("password"); v != false {
		t.Errorf("explicitly read secret must be False, got %#v", v)
	}
	if v, _ := recs[0].Get("note"); v != false {
		t.Errorf("empty text reads False, got %#v", v)
	}
	if v, _ := recs[0].Get("create_date"); len(v.(string)) != len(models.DatetimeFormat) {
		t.Errorf("datetime format: %#v", v)
	}
	recs, _ = env.Read(r.Model("mqtt.signal"), []int64{signal}, []string{"history_ids", "topic", "send_at"}, "_classic_read")
	if v, _ := recs[0].Get("history_ids"); !reflect.DeepEqual(v, []int64{}) {
		t.Errorf("empty one2many = %#v", v)
	}
	if _, err := env.Read(r.Model("mqtt.broker"), []int64{broker}, []string{"nope"}, ""); models.KindOf(err) != models.KindValue {
		t.Errorf("unknown field: %v", err)
	}
}

func testComputed(t *testing.T, r *modelstest.App) {
	env := testEnv(t, r)
	broker, _, sub2, signal := fixtures(t, env)
	name := func(model string, id int64) string {
		recs, err := env.Read(r.Model(model), []int64{id}, []string{"display_name", "topic"}, "")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := recs[0].Get("display_name")
		return v.(string)
	}
	if got := name("mqtt.signal", signal); got != "Plant A - cmd/lamp" {
		t.Errorf("signal display_name = %q", got)
	}
	// A change on the broker flows to subscriptions and signals.
	if err := env.Write(r.Model("mqtt.broker"), []int64{broker}, map[string]any{"name": "Plant B"}); err != nil {
		t.Fatal(err)
	}
	if got := name("mqtt.subscription", sub2); got != "Plant B - cmd/lamp" {
		t.Errorf("subscription display_name after broker rename = %q", got)
	}
	// The related stored topic follows its subscription.
	if err := env.Write(r.Model("mqtt.subscription"), []int64{sub2}, map[string]any{"topic": "cmd/light"}); err != nil {
		t.Fatal(err)
	}
	if got := name("mqtt.signal", signal); got != "Plant B - cmd/light" {
		t.Errorf("signal display_name after topic change = %q", got)
	}
	ids, err := tsearch(env, "mqtt.signal", []any{[]any{"topic", "=", "cmd/light"}}, 0, 0, "")
	if err != nil || !reflect.DeepEqual(ids, []int64{signal}) {
		t.Errorf("search on related stored field = %v, %v", ids, err)
	}
	h := mustCreate(t, env, "mqtt.signal.history", map[string]any{"payload": "x", "direction": "receive", "topic": "a/b", "timestamp": "2026-01-02 03:04:05"})
	if got := name("mqtt.signal.history", h); got != "a/b - 2026-01-02 03:04:05" {
		t.Errorf("history display_name = %q", got)
	}
}

func testWriteUnlink(t *testing.T, r *modelstest.App) {
	env := testEnv(t, r)
	broker, _, _, _ := fixtures(t, env)
	mb := r.Model("mqtt.broker")
	err := env.Write(mb, []int64{broker, 424242}, map[string]any{"note": "x"})
	if models.KindOf(err) != models.KindMissing || !strings.Contains(err.Error(), "mqtt.broker(424242,)") {
		t.Errorf("write on missing id: %v", err)
	}
	if err := env.Unlink(mb, []int64{424242}); err != nil {
		t.Errorf("unlink of a deleted id (Odoo 16 ignores it): %v", err)
	}
	if _, err := call(env, "mqtt.broker", "write", []any{broker, map[string]any{"bogus": 1}}, nil); models.KindOf(err) != models.KindValue {
		t.Errorf("write unknown field: %v", err)
	}
	// Unlinking a broker with subscriptions is refused: TestDeleteRestrict.
}

func testX2many(t *testing.T, r *modelstest.App) {
	env := testEnv(t, r)
	mu := r.Model("res.users")
	groups, _ := tsearch(env, "res.groups", nil, 0, 0, "id")
	uid := mustCreate(t, env, "res.users", map[string]any{"name": "Op", "login": "op", "groups_id": []any{[]any{int64(6), int64(0), []any{groups[0], groups[1]}}}})
	read := func() []int64 {
		recs, err := env.Read(mu, []int64{uid}, []string{"groups_id"}, "")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := recs[0].Get("groups_id")
		return v.([]int64)
	}
	if got := read(); !reflect.DeepEqual(got, []int64{groups[0], groups[1]}) {
		t.Fatalf("(6,0,ids) = %v", got)
	}
	steps := []struct {
		cmd  []any
		want []int64
	}{
		{[]any{int64(3), groups[0], int64(0)}, []int64{groups[1]}},
		{[]any{int64(4), groups[2], int64(0)}, []int64{groups[1], groups[2]}},
		{[]any{int64(5), int64(0), int64(0)}, []int64{}},
	}
	for _, s := range steps {
		if err := env.Write(mu, []int64{uid}, map[string]any{"groups_id": []any{s.cmd}}); err != nil {
			t.Fatalf("%v: %v", s.cmd, err)
		}
		if got := read(); !reflect.DeepEqual(got, s.want) {
			t.Errorf("after %v: %v, want %v", s.cmd, got, s.want)
		}
	}
	// one2many: (0,0,v) creates, (1,id,v) updates, (2,id) deletes.
	broker := mustCreate(t, env, "mqtt.broker", map[string]any{"name": "B"})
	mb := r.Model("mqtt.broker")
	if err := env.Write(mb, []int64{broker}, map[string]any{"subscription_ids": []any{
		[]any{int64(0), int64(0), map[string]any{"topic": "a/#"}},
		[]any{int64(0), int64(0), map[string]any{"topic": "b/#"}},
	}}); err != nil {
		t.Fatal(err)
	}
	subs, _ := tsearch(env, "mqtt.subscription", []any{[]any{"broker_id", "=", broker}}, 0, 0, "id")
	if len(subs) != 2 {
		t.Fatalf("(0,0,v) created %d", len(subs))
	}
	if err := env.Write(mb, []int64{broker}, map[string]any{"subscription_ids": []any{
		[]any{int64(1), subs[0], map[string]any{"topic": "c/#"}}, []any{int64(2), subs[1], int64(0)},
	}}); err != nil {
		t.Fatal(err)
	}
	recs, _ := env.Read(r.Model("mqtt.subscription"), subs, []string{"topic"}, "")
	if len(recs) != 1 {
		t.Fatalf("(2,id) did not delete: %d left", len(recs))
	}
	if v, _ := recs[0].Get("topic"); v != "c/#" {
		t.Errorf("(1,id,v) topic = %v", v)
	}
}

func testValidation(t *testing.T, r *modelstest.App) {
	env := testEnv(t, r)
	broker, sub1, _, _ := fixtures(t, env)
	other := mustCreate(t, env, "mqtt.broker", map[string]any{"name": "Other"})
	cases := []struct {
		name  string
		model string
		vals  map[string]any
		kind  models.Kind
		msg   string
	}{
		{"missing required", "mqtt.broker", map[string]any{"host": "h"}, models.KindValidation, "Broker Name"},
		{"port range", "mqtt.broker", map[string]any{"name": "x", "port": "70000"}, models.KindValidation, "Port"},
		{"port text", "mqtt.broker", map[string]any{"name": "x", "port": "abc"}, models.KindValidation, "Port: 'abc' is not a port number (1-65535)."},
		{"host", "mqtt.broker", map[string]any{"name": "x", "host": "a b"}, models.KindValidation, "Host: 'a b' is not a host name or address."},
		{"websocket path", "mqtt.broker", map[string]any{"name": "x", "ws_path": "mqtt"}, models.KindValidation, "Websocket path: 'mqtt' must start with '/'."},
		{"CA block type", "mqtt.broker", map[string]any{"name": "x", "ca_cert": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, models.KindValidation,
			"CA certificate (PEM): unexpected PEM block 'PRIVATE KEY' (want CERTIFICATE)"},
		{"bad selection", "mqtt.broker", map[string]any{"name": "x", "url_scheme": "gopher://"}, models.KindValue, "url_scheme"},
		{"qos", "mqtt.subscription", map[string]any{"broker_id": broker, "topic": "a", "qos": int64(3)}, models.KindValidation, "QoS"},
		{"topic filter", "mqtt.subscription", map[string]any{"broker_id": broker, "topic": "a/#/b"}, models.KindValidation, "Topic: 'a/#/b': '#' must be the whole last level"},
		{"subscription of other broker", "mqtt.signal", map[string]any{"broker_id": other, "subscription_id": sub1, "payload": "p"}, models.KindValidation, "Subscription: 'Plant A - sensors/+/temp' belongs to another broker."},
		{"publish on wildcard", "mqtt.signal", map[string]any{"broker_id": broker, "subscription_id": sub1, "payload": "p"}, models.KindValidation, "Topic: 'sensors/+/temp': wildcards are not allowed"},
		{"wrong type", "mqtt.broker", map[string]any{"name": "x", "keepalive": "many"}, models.KindValue, "keepalive"},
		{"duplicate client id", "mqtt.broker", map[string]any{"name": "y", "client_id": "dup"}, 0, ""},
		{"duplicate client id again", "mqtt.broker", map[string]any{"name": "z", "client_id": "dup"}, models.KindValidation, "unique"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each case runs in a savepoint of the fixtures' transaction.
			env.DB().SavePoint("sp_case")
			defer env.DB().RollbackTo("sp_case")
			if c.name == "duplicate client id again" {
				mustCreate(t, env, "mqtt.broker", map[string]any{"name": "y", "client_id": "dup"})
			}
			_, err := tcreate(env, c.model, c.vals)
			if c.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if models.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %v (kind %v), want kind %v containing %q", err, models.KindOf(err), c.kind, c.msg)
			}
		})
	}
}

func testAccess(t *testing.T, r *modelstest.App) {
	su := testEnv(t, r)
	groups := map[string]int64{}
	for _, g := range []string{models.GroupUser, mqtt.GroupUser, mqtt.GroupManager} {
		ids, _ := tsearch(su, "res.groups", []any{[]any{"xml_id", "=", g}}, 0, 0, "")
		groups[g] = ids[0]
	}
	user := mustCreate(t, su, "res.users", map[string]any{"name": "U", "login": "u", "password": "pw-u", "groups_id": []any{[]any{int64(4), groups[mqtt.GroupUser]}}})
	manager := mustCreate(t, su, "res.users", map[string]any{"name": "M", "login": "m", "password": "pw-m", "groups_id": []any{[]any{int64(4), groups[mqtt.GroupManager]}}})
	broker, _, sub2, _ := fixtures(t, su)
	// Commit-free: run as other users inside the same transaction.
	asUser, asManager := su.WithUser(user), su.WithUser(manager)
	if _, err := tcreate(asUser, "mqtt.broker", map[string]any{"name": "nope"}); models.KindOf(err) != models.KindAccess {
		t.Errorf("MQTT user creating a broker: %v", err)
	}
	if _, err := asUser.Read(r.Model("mqtt.broker"), []int64{broker}, nil, ""); err != nil {
		t.Errorf("MQTT user reading brokers: %v", err)
	}
	if _, err := tcreate(asUser, "mqtt.signal", map[string]any{"broker_id": broker, "subscription_id": sub2, "payload": "x"}); err != nil {
		t.Errorf("MQTT user creating a signal: %v", err)
	}
	if _, err := tcreate(asManager, "mqtt.broker", map[string]any{"name": "ok"}); err != nil {
		t.Errorf("manager creating a broker: %v", err)
	}
	if _, err := tcreate(asManager, "res.users", map[string]any{"name": "x", "login": "x"}); models.KindOf(err) != models.KindAccess {
		t.Errorf("manager creating a user: %v", err)
	}
	if ok, _ := call(asUser, "mqtt.broker", "check_access_rights", []any{"write"}, map[string]any{"raise_exception": false}); ok != false {
		t.Errorf("check_access_rights(write) for MQTT user = %v", ok)
	}
	if _, err := call(asUser, "mqtt.broker", "check_access_rights", []any{"unlink"}, nil); models.KindOf(err) != models.KindAccess {
		t.Errorf("check_access_rights raising: %v", err)
	}
	if _, err := tsearch(asUser, "mqtt.broker", []any{[]any{"password", "=", "s3cret"}}, 0, 0, ""); models.KindOf(err) != models.KindValue {
		t.Errorf("searching on a secret must be refused: %v", err)
	}
	if _, err := tcreate(asUser, "ir.model", map[string]any{"name": "x", "model": "x.y"}); models.KindOf(err) != models.KindAccess {
		t.Errorf("ir.model is read-only: %v", err)
	}
	// API keys: each user sees only their own.
	if _, err := models.GenerateAPIKey(asUser, "script", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := models.GenerateAPIKey(asManager, "other", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	mine, err := tsearch(asUser, "res.users.apikeys", nil, 0, 0, "")
	if err != nil || len(mine) != 1 {
		t.Errorf("own api keys = %v, %v", mine, err)
	}
}

func testGenericMethods(t *testing.T, r *modelstest.App) {
	env := testEnv(t, r)
	broker, sub1, _, _ := fixtures(t, env)
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	got, err := call(env, "mqtt.broker", "create", []any{[]any{map[string]any{"name": "L1"}, map[string]any{"name": "L2"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids, ok := got.([]int64); !ok || len(ids) != 2 {
		t.Errorf("create(list) = %#v", got)
	}
	got, _ = call(env, "mqtt.broker", "search", []any{[]any{}}, map[string]any{"count": true})
	check("search count", got, int64(3))
	got, _ = call(env, "mqtt.broker", "search_count", []any{[]any{[]any{"name", "like", "L"}}}, nil)
	check("search_count", got, int64(2))
	got, _ = call(env, "mqtt.broker", "search", []any{[]any{}, int64(1), int64(1), "name desc"}, nil)
	if ids := got.([]int64); len(ids) != 1 {
		t.Errorf("positional offset/limit/order: %v", ids)
	}
	got, _ = call(env, "mqtt.broker", "search", []any{[]any{}}, map[string]any{"limit": false, "order": false, "offset": false})
	check("limit=False", len(got.([]int64)), 3)
	got, _ = call(env, "mqtt.broker", "name_get", []any{broker}, nil)
	check("name_get", got, []any{[]any{broker, "Plant A"}})
	got, _ = call(env, "mqtt.subscription", "name_search", []any{"temp"}, nil)
	check("name_search", got, []any{[]any{sub1, "Plant A - sensors/+/temp"}})
	got, _ = call(env, "mqtt.broker", "exists", []any{[]any{broker, int64(777)}}, nil)
	check("exists", got, []int64{broker})
	got, err = call(env, "mqtt.broker", "copy", []any{broker}, map[string]any{"default": map[string]any{"name": "Copy"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := env.Read(r.Model("mqtt.broker"), []int64{got.(int64), broker}, []string{"name", "client_id", "host"}, "")
	n0, _ := recs[0].Get("client_id")
	n1, _ := recs[1].Get("client_id")
	h0, _ := recs[0].Get("host")
	if n0 == n1 || h0 != "127.0.0.1" {
		t.Errorf("copy must keep host and regenerate client_id: %v %v %v", n0, n1, h0)
	}
	if _, err := call(env, "mqtt.broker", "copy", []any{[]any{broker, got}}, nil); models.KindOf(err) != models.KindValue {
		t.Errorf("copy of two records: %v", err)
	}
	got, _ = call(env, "mqtt.broker", "default_get", []any{[]any{"port", "keepalive", "name", "clean_session"}}, nil)
	d := got.(*models.Dict)
	if v, _ := d.Get("port"); v != "1883" {
		t.Errorf("default port = %v", v)
	}
	if _, ok := d.Get("name"); ok {
		t.Errorf("name has no default")
	}
	got, _ = call(env, "mqtt.broker", "fields_get", nil, map[string]any{"attributes": []any{"type", "string", "selection"}})
	fg := got.(*models.Dict)
	v, _ := fg.Get("url_scheme")
	check("fields_get url_scheme", v.(*models.Dict).Len(), 3)
	if _, ok := fg.Get("password"); !ok {
		t.Errorf("fields_get lists password (write-only) for forms")
	}
	got, _ = call(env, "mqtt.broker", "fields_get", nil, map[string]any{"attributes": []any{}})
	v, _ = got.(*models.Dict).Get("name")
	check("fields_get attributes=[]", v.(*models.Dict).Len(), 0)
	got, _ = call(env, "mqtt.subscription", "search_read", []any{[]any{[]any{"broker_id.name", "=", "Plant A"}}}, map[string]any{"fields": []any{"topic"}, "order": "topic desc"})
	rows := got.([]*models.Dict)
	if len(rows) != 2 {
		t.Fatalf("search_read = %d rows", len(rows))
	}
	if v, _ := rows[0].Get("topic"); v != "sensors/+/temp" {
		t.Errorf("search_read order: %v", v)
	}
	got, _ = call(env, "res.users", "context_get", nil, nil)
	if c := got.(map[string]any); c["lang"] != "en_US" || c["uid"] != models.Superuser {
		t.Errorf("context_get = %v", c)
	}
	got, _ = call(env, "ir.model", "search_read", []any{[]any{[]any{"model", "=", "mqtt.broker"}}}, map[string]any{"fields": []any{"name"}})
	if len(got.([]*models.Dict)) != 1 {
		t.Errorf("ir.model lookup of mqtt.broker: %v", got)
	}
	got, _ = call(env, "ir.model.fields", "search_count", []any{[]any{[]any{"model_id.model", "=", "mqtt.signal"}, []any{"ttype", "=", "one2many"}}}, nil)
	check("ir.model.fields one2many on signal", got, int64(1))
	if _, err := call(env, "mqtt.broker", "search", []any{[]any{}, "x"}, nil); models.KindOf(err) != models.KindValue {
		t.Errorf("bad offset type: %v", err)
	}
	if _, err := call(env, "mqtt.broker", "search", nil, map[string]any{"domain": []any{}, "nope": 1}); models.KindOf(err) != models.KindType {
		t.Errorf("unknown kwarg: %v", err)
	}
	got, _ = call(env, "mqtt.broker", "web_search_read", []any{[]any{}, []any{"name"}}, map[string]any{"limit": int64(1)})
	wd := got.(*models.Dict)
	if l, _ := wd.Get("length"); l != int64(4) { // 3 brokers + the copy
		t.Errorf("web_search_read length = %v", l)
	}
}

func testReadGroup(t *testing.T, r *modelstest.App) {
	env := testEnv(t, r)
	broker, _, _, signal := fixtures(t, env)
	for i, ts := range []string{"2026-01-05 10:00:00", "2026-01-20 10:00:00", "2026-02-01 00:00:00"} {
		mustCreate(t, env, "mqtt.signal.history", map[string]any{"payload": "p", "direction": "receive", "timestamp": ts, "qos": int64(i), "broker_id": broker})
	}
	mustCreate(t, env, "mqtt.signal.history", map[string]any{"payload": "p", "direction": "send", "timestamp": "2026-02-03 00:00:00", "qos": int64(1), "signal_id": signal})
	got, err := call(env, "mqtt.signal.history", "read_group", []any{[]any{}, []any{"qos"}, []any{"direction"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	groups := got.([]*models.Dict)
	if len(groups) != 2 {
		t.Fatalf("groups = %d", len(groups))
	}
	for _, g := range groups {
		dir, _ := g.Get("direction")
		n, _ := g.Get("direction_count")
		q, _ := g.Get("qos")
		want := map[string][2]int64{"receive": {3, 3}, "send": {1, 1}}[dir.(string)]
		if n != want[0] || q != want[1] {
			t.Errorf("group %v: count %v qos %v, want %v", dir, n, q, want)
		}
		if _, ok := g.Get("__domain"); !ok {
			t.Errorf("group without __domain")
		}
	}
	got, err = call(env, "mqtt.signal.history", "read_group", []any{[]any{[]any{"direction", "=", "receive"}}, []any{}, []any{"timestamp:month"}}, map[string]any{"lazy": false})
	if err != nil {
		t.Fatal(err)
	}
	groups = got.([]*models.Dict)
	if len(groups) != 2 {
		t.Fatalf("month groups = %d", len(groups))
	}
	label, _ := groups[0].Get("timestamp:month")
	n, _ := groups[0].Get("__count")
	if label != "January 2026" || n != int64(2) {
		t.Errorf("first month group: %v %v", label, n)
	}
	dom, _ := groups[0].Get("__domain")
	ids, err := tsearch(env, "mqtt.signal.history", dom, 0, 0, "")
	if err != nil || len(ids) != 2 {
		t.Errorf("__domain selects the group: %v %v", ids, err)
	}
	got, _ = call(env, "mqtt.signal.history", "read_group", []any{[]any{}, []any{}, []any{"broker_id"}}, nil)
	for _, g := range got.([]*models.Dict) {
		if b, _ := g.Get("broker_id"); b != false && !reflect.DeepEqual(b, []any{broker, "Plant A"}) {
			t.Errorf("m2o group value = %#v", b)
		}
	}
}

func testAuth(t *testing.T, r *modelstest.App) {
	ctx := context.Background()
	if uid, err := r.Authenticate(ctx, "admin", modelstest.AdminPassword, true); err != nil || uid != models.AdminUID {
		t.Fatalf("admin login: %v %v", uid, err)
	}
	for _, c := range [][2]string{{"admin", "wrong"}, {"admin", ""}, {"__system__", modelstest.AdminPassword}, {"nobody", modelstest.AdminPassword}} {
		if _, err := r.Authenticate(ctx, c[0], c[1], false); err != models.ErrAccessDenied {
			t.Errorf("login %q/%q: %v", c[0], c[1], err)
		}
	}
	var key string
	err := r.Transaction(ctx, models.AdminUID, nil, func(env *models.Env) error {
		var err error
		key, err = models.GenerateAPIKey(env, "ci", "", time.Time{})
		return err
	})
	if err != nil || len(key) != 40 {
		t.Fatalf("api key: %q %v", key, err)
	}
	if uid, err := r.Authenticate(ctx, "admin", key, false); err != nil || uid != models.AdminUID {
		t.Errorf("api key login (rpc): %v %v", uid, err)
	}
	if _, err := r.Authenticate(ctx, "admin", key, true); err != models.ErrAccessDenied {
		t.Errorf("api key must not work interactively: %v", err)
	}
	if err := r.CheckCredentials(ctx, models.AdminUID, key); err != nil {
		t.Errorf("api key in execute_kw: %v", err)
	}
	// The stored key is a hash, never the key.
	var stored []string
	r.DB().Raw(`SELECT "key" FROM "res_users_apikeys"`).Scan(&stored)
	if len(stored) != 1 || stored[0] == key {
		t.Errorf("api key stored in clear: %v", stored)
	}
	var hash string
	r.DB().Raw(`SELECT "password" FROM "res_users" WHERE "id" = 2`).Scan(&hash)
	if !strings.HasPrefix(hash, "$2") {
		t.Errorf("password not bcrypt-hashed: %q", hash)
	}
	s, err := r.NewSession(ctx, models.AdminUID, time.Hour)
	if err != nil || !models.ValidSessionID(s.SID) {
		t.Fatalf("session: %v %v", s, err)
	}
	if got, err := r.Session(ctx, s.SID); err != nil || got.UID != models.AdminUID {
		t.Errorf("load session: %v %v", got, err)
	}
	// Changing the password invalidates sessions.
	err = r.Transaction(ctx, models.AdminUID, nil, func(env *models.Env) error {
		_, err := call(env, "res.users", "change_password", []any{modelstest.AdminPassword, "admin2"}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Session(ctx, s.SID); err != models.ErrSessionExpired {
		t.Errorf("session after password change: %v", err)
	}
	if _, err := r.Authenticate(ctx, "admin", "admin2", true); err != nil {
		t.Errorf("new password: %v", err)
	}
	// The credential cache must not keep the old password alive.
	if err := r.CheckCredentials(ctx, models.AdminUID, modelstest.AdminPassword); err != models.ErrAccessDenied {
		t.Errorf("old password after change: %v", err)
	}
	if err := r.CheckCredentials(ctx, models.AdminUID, "admin2"); err != nil {
		t.Errorf("new password in execute_kw: %v", err)
	}
	// Nor cached groups: a user removed from a group loses its rights at once.
	var mgr int64
	err = r.Transaction(ctx, models.Superuser, nil, func(env *models.Env) error {
		g, _ := tsearch(env.Sudo(), "res.groups", []any{[]any{"xml_id", "=", mqtt.GroupManager}}, 0, 0, "")
		var err error
		mgr, err = tcreate(env.Sudo(), "res.users", map[string]any{"name": "Mgr", "login": "mgr", "password": "pw-mgr", "groups_id": []any{[]any{int64(4), g[0]}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	create := func() error {
		_, err := r.Execute(ctx, models.Call{UID: mgr, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{"name": "by mgr"}}})
		return err
	}
	if err := create(); err != nil {
		t.Fatalf("manager create: %v", err)
	}
	err = r.Transaction(ctx, models.Superuser, nil, func(env *models.Env) error {
		return env.Sudo().Write(r.Model("res.users"), []int64{mgr}, map[string]any{"groups_id": []any{[]any{int64(5)}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := create(); models.KindOf(err) != models.KindAccess {
		t.Errorf("create after losing the group: %v", err)
	}
	if _, err := r.Session(ctx, models.NewSessionID()); err != models.ErrSessionExpired {
		t.Errorf("unknown session: %v", err)
	}
}
