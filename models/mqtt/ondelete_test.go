package mqtt_test

import (
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// restrictMsg is Odoo 16's answer to deleting a record another model
// requires (odoo/service/model.py rewriting the foreign key violation).
func restrictMsg(description, model, constraint string) string {
	return "The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\n" +
		"Model: " + description + " (" + model + "), Constraint: " + constraint
}

// TestDeleteRestrict: as in the addon (a required many2one is ondelete
// restrict in Odoo), a broker with subscriptions or signals, and a
// subscription with signals, are not deleted: the unlink is a
// ValidationError naming the model and the constraint that depend on the
// record, and nothing is deleted. History never blocks a delete: a
// broker's history goes with it, a signal's or subscription's stays
// unlinked. A broker's devices go with it (iot.device cascades, as
// Odoo's iot.device does with its IoT box).
func TestDeleteRestrict(t *testing.T) {
	type world struct{ broker, bare, sub, lone, signal, device, hist, bareHist int64 }
	setup := func(t *testing.T, env *models.Env) world {
		var w world
		w.broker = mustCreate(t, env, "mqtt.broker", map[string]any{"name": "Plant A"})
		w.bare = mustCreate(t, env, "mqtt.broker", map[string]any{"name": "Bare"})
		w.sub = mustCreate(t, env, "mqtt.subscription", map[string]any{"broker_id": w.broker, "topic": "cmd/lamp"})
		w.lone = mustCreate(t, env, "mqtt.subscription", map[string]any{"broker_id": w.broker, "topic": "sensors/#"})
		w.signal = mustCreate(t, env, "mqtt.signal", map[string]any{"broker_id": w.broker, "subscription_id": w.sub, "payload": "on"})
		w.device = mustCreate(t, env, "iot.device", map[string]any{"name": "Lamp", "identifier": "lamp1", "broker_id": w.bare})
		w.hist = mustCreate(t, env, "mqtt.signal.history", map[string]any{"payload": "on", "direction": "send",
			"broker_id": w.broker, "subscription_id": w.sub, "signal_id": w.signal})
		w.bareHist = mustCreate(t, env, "mqtt.signal.history", map[string]any{"payload": "x", "direction": "receive", "broker_id": w.bare})
		return w
	}
	cases := []struct {
		name    string
		model   string
		ids     func(w world) []int64
		prepare func(t *testing.T, env *models.Env, w world) // deletes done first
		// want is the error message; "" for a delete that goes through.
		want string
		// check runs afterwards on what is left.
		check func(t *testing.T, env *models.Env, w world)
	}{
		{name: "broker with subscriptions and signals", model: "mqtt.broker", ids: func(w world) []int64 { return []int64{w.broker} },
			want: restrictMsg("MQTT Signal", "mqtt.signal", "mqtt_signal_broker_id_fkey")},
		{name: "broker with subscriptions", model: "mqtt.broker", ids: func(w world) []int64 { return []int64{w.broker} },
			prepare: func(t *testing.T, env *models.Env, w world) { unlinkOK(t, env, "mqtt.signal", w.signal) },
			want:    restrictMsg("MQTT Subscription", "mqtt.subscription", "mqtt_subscription_broker_id_fkey")},
		{name: "a free broker with a blocked one", model: "mqtt.broker", ids: func(w world) []int64 { return []int64{w.bare, w.broker} },
			want: restrictMsg("MQTT Signal", "mqtt.signal", "mqtt_signal_broker_id_fkey")},
		{name: "subscription with a signal", model: "mqtt.subscription", ids: func(w world) []int64 { return []int64{w.sub} },
			want: restrictMsg("MQTT Signal", "mqtt.signal", "mqtt_signal_subscription_id_fkey")},
		{name: "subscription without signal", model: "mqtt.subscription", ids: func(w world) []int64 { return []int64{w.lone} },
			check: func(t *testing.T, env *models.Env, w world) { wantExist(t, env, "mqtt.subscription", []int64{w.sub}) }},
		{name: "signal keeps its history", model: "mqtt.signal", ids: func(w world) []int64 { return []int64{w.signal} },
			check: func(t *testing.T, env *models.Env, w world) {
				wantExist(t, env, "mqtt.signal.history", []int64{w.hist, w.bareHist})
				wantValue(t, env, "mqtt.signal.history", w.hist, "signal_id", false)
			}},
		{name: "subscription keeps its history", model: "mqtt.subscription", ids: func(w world) []int64 { return []int64{w.sub} },
			prepare: func(t *testing.T, env *models.Env, w world) { unlinkOK(t, env, "mqtt.signal", w.signal) },
			check: func(t *testing.T, env *models.Env, w world) {
				wantExist(t, env, "mqtt.signal.history", []int64{w.hist, w.bareHist})
				wantValue(t, env, "mqtt.signal.history", w.hist, "subscription_id", false)
			}},
		{name: "broker with history and devices takes them along", model: "mqtt.broker", ids: func(w world) []int64 { return []int64{w.bare} },
			check: func(t *testing.T, env *models.Env, w world) {
				wantExist(t, env, "mqtt.signal.history", []int64{w.hist})
				wantExist(t, env, "iot.device", nil)
			}},
		{name: "broker after its signals and subscriptions", model: "mqtt.broker", ids: func(w world) []int64 { return []int64{w.broker} },
			prepare: func(t *testing.T, env *models.Env, w world) {
				unlinkOK(t, env, "mqtt.signal", w.signal)
				unlinkOK(t, env, "mqtt.subscription", w.sub, w.lone)
			},
			check: func(t *testing.T, env *models.Env, w world) {
				wantExist(t, env, "mqtt.broker", []int64{w.bare})
				wantExist(t, env, "mqtt.signal.history", []int64{w.bareHist})
			}},
	}
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				env := testEnv(t, r)
				w := setup(t, env)
				if c.prepare != nil {
					c.prepare(t, env, w)
				}
				before := counts(t, env)
				err := env.Unlink(r.Model(c.model), c.ids(w))
				if c.want == "" {
					if err != nil {
						t.Fatalf("unlink: %v", err)
					}
					c.check(t, env, w)
					return
				}
				if models.KindOf(err) != models.KindValidation || err.Error() != c.want {
					t.Fatalf("unlink = %v (kind %v), want the ValidationError %q", err, models.KindOf(err), c.want)
				}
				if after := counts(t, env); after != before {
					t.Errorf("a refused unlink deleted records: %v, then %v", before, after)
				}
				if env.Dialect() == models.Postgres {
					// The message names a constraint that exists.
					var n int64
					env.DB().Raw(`SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND conname = ? AND confdeltype = 'r'`, constraintOf(c.want)).Scan(&n)
					if n != 1 {
						t.Errorf("no ON DELETE RESTRICT key named %q", constraintOf(c.want))
					}
				}
			})
		}
		// A database created before these keys were restrict still has ON
		// DELETE CASCADE ones (no migration rewrites them): the engine
		// refuses first, so they never fire. (PostgreSQL, where DDL is
		// transactional and a key can be swapped in the test's transaction.)
		t.Run("database with cascade keys", func(t *testing.T) {
			env := testEnv(t, r)
			if env.Dialect() != models.Postgres {
				return
			}
			for _, k := range []struct{ table, col, ref string }{
				{"mqtt_subscription", "broker_id", "mqtt_broker"}, {"mqtt_signal", "broker_id", "mqtt_broker"}, {"mqtt_signal", "subscription_id", "mqtt_subscription"},
			} {
				name := k.table + "_" + k.col + "_fkey"
				if err := env.DB().Exec(`ALTER TABLE "` + k.table + `" DROP CONSTRAINT "` + name + `", ADD CONSTRAINT "` + name +
					`" FOREIGN KEY ("` + k.col + `") REFERENCES "` + k.ref + `" ("id") ON DELETE CASCADE`).Error; err != nil {
					t.Fatal(err)
				}
			}
			w := setup(t, env)
			before := counts(t, env)
			err := env.Unlink(r.Model("mqtt.subscription"), []int64{w.sub})
			if err == nil || err.Error() != restrictMsg("MQTT Signal", "mqtt.signal", "mqtt_signal_subscription_id_fkey") {
				t.Errorf("unlink = %v", err)
			}
			if after := counts(t, env); after != before {
				t.Errorf("the cascade key deleted records: %v, then %v", before, after)
			}
		})
	})
}

func unlinkOK(t *testing.T, env *models.Env, model string, ids ...int64) {
	t.Helper()
	if err := env.Unlink(env.Registry().Model(model), ids); err != nil {
		t.Fatalf("unlink %s %v: %v", model, ids, err)
	}
}

// counts is the number of records of each model the deletes concern.
func counts(t *testing.T, env *models.Env) [5]int64 {
	t.Helper()
	var out [5]int64
	for i, model := range []string{"mqtt.broker", "mqtt.subscription", "mqtt.signal", "mqtt.signal.history", "iot.device"} {
		n, err := env.Count(env.Registry().Model(model), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n
	}
	return out
}

// wantExist checks that exactly ids are left of model.
func wantExist(t *testing.T, env *models.Env, model string, ids []int64) {
	t.Helper()
	got, err := tsearch(env, model, []any{}, 0, 0, "id")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("%s left: %v, want %v", model, got, ids)
	}
	for i := range got {
		if got[i] != ids[i] {
			t.Fatalf("%s left: %v, want %v", model, got, ids)
		}
	}
}

func wantValue(t *testing.T, env *models.Env, model string, id int64, field string, want any) {
	t.Helper()
	recs, err := env.Read(env.Registry().Model(model), []int64{id}, []string{field}, "_classic_write")
	if err != nil || len(recs) != 1 {
		t.Fatalf("read %s %d: %v", model, id, err)
	}
	if v, _ := recs[0].Get(field); v != want {
		t.Errorf("%s %d %s = %#v, want %#v", model, id, field, v, want)
	}
}

// constraintOf is the constraint a restrict message names.
func constraintOf(msg string) string {
	const key = "Constraint: "
	return msg[strings.LastIndex(msg, key)+len(key):]
}
