package bus

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// noTick is an AccessCheckInterval that never comes during a test: what
// the test sees then comes from the access notes alone.
const noTick = time.Hour

// revocation is one way a user loses the right to hear mqtt_realtime.
type revocation struct {
	name   string
	revoke func(t *testing.T, e *env, uid int64, sid string)
	closes bool // the session ends (4001) rather than the channel going
}

// revocations are the changes that must reach open sockets, made as a
// client would (RPC calls through the registry's dispatcher).
var revocations = []revocation{
	{"MQTT group removed from the user", func(t *testing.T, e *env, uid int64, _ string) {
		e.execAdmin(t, "res.users", "write", []any{uid}, map[string]any{"groups_id": []any{[]any{int64(3), e.groupID(t, mqtt.GroupUser)}}})
	}, false},
	{"user removed from the MQTT group", func(t *testing.T, e *env, uid int64, _ string) {
		e.execAdmin(t, "res.groups", "write", []any{e.groupID(t, mqtt.GroupUser)}, map[string]any{"users": []any{[]any{int64(3), uid}}})
	}, false},
	{"user archived", func(t *testing.T, e *env, uid int64, _ string) {
		e.execAdmin(t, "res.users", "write", []any{uid}, map[string]any{"active": false})
	}, true},
	{"password changed", func(t *testing.T, e *env, uid int64, _ string) {
		e.execAdmin(t, "res.users", "write", []any{uid}, map[string]any{"password": "a new one"})
	}, true},
	{"user deleted", func(t *testing.T, e *env, uid int64, _ string) {
		e.execAdmin(t, "res.users", "unlink", []any{uid})
	}, true},
	{"logged out", func(t *testing.T, e *env, _ int64, sid string) {
		if err := e.reg.DeleteSession(context.Background(), sid); err != nil {
			t.Fatal(err)
		}
	}, true},
}

// TestWebSocketAccessRevoked: a socket subscribed to mqtt_realtime stops
// receiving its notes once the user's right to them goes (group removed
// from either side: the channel is dropped and the socket stays; archived,
// password changed, deleted or logged out: closed with 4001), through the
// access note alone (the periodic re-check is out of reach), and
// peek_notifications stops returning them.
func TestWebSocketAccessRevoked(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			e := newEnv(t, m, Options{AccessCheckInterval: noTick})
			sentinel := e.mustDial(e.session(models.AdminUID))
			subscribe(t, sentinel, realtime, e.bus.LastID())
			testkit.Eventually(t, guard, "the sentinel's subscription", func() bool { return e.bus.listening(mqtt.ChannelRealtime) == 1 })
			for i, rv := range revocations {
				t.Run(rv.name, func(t *testing.T) {
					uid := e.mqttUser(t, "ws"+string(rune('a'+i)))
					sid := e.session(uid)
					c := e.mustDial(sid)
					e.checkRevoked(t, sentinel, c, sid, rv, func() { rv.revoke(t, e, uid, sid) })
				})
			}
			t.Run("peek_notifications", func(t *testing.T) {
				uid := e.mqttUser(t, "poller")
				sid := e.session(uid)
				before := e.publish(note(1))
				if got := e.peek(t, sid, before[0].ID-1); !slices.Equal(got, []int64{before[0].ID}) {
					t.Fatalf("before: peeked %v, want [%d]", got, before[0].ID)
				}
				revocations[0].revoke(t, e, uid, sid)
				after := e.publish(note(2))
				readNotes(t, sentinel, 2)
				if got := e.peek(t, sid, before[0].ID-1); len(got) != 0 {
					t.Fatalf("after the group was removed: peeked %v (published %d, %d)", got, before[0].ID, after[0].ID)
				}
			})
		})
	}
}

// TestWebSocketAccessBackstop: changes no access note announces (another
// process writing the database, here plain SQL) reach the open sockets
// through the periodic re-check; and, on PostgreSQL, a change made on
// another instance reaches this one's sockets through its access note.
func TestWebSocketAccessBackstop(t *testing.T) {
	for _, m := range modes(t) {
		t.Run(m.name+"/periodic", func(t *testing.T) {
			modelstest.CheckLeaks(t)
			e := newEnv(t, m, Options{AccessCheckInterval: 50 * time.Millisecond})
			sentinel := e.mustDial(e.session(models.AdminUID))
			subscribe(t, sentinel, realtime, e.bus.LastID())
			testkit.Eventually(t, guard, "the sentinel's subscription", func() bool { return e.bus.listening(mqtt.ChannelRealtime) == 1 })
			for _, rv := range []revocation{
				{"group row deleted", func(t *testing.T, e *env, uid int64, _ string) {
					e.sql(t, `DELETE FROM "res_groups_res_users_rel" WHERE "res_users_id" = ? AND "res_groups_id" = ?`, uid, e.groupID(t, mqtt.GroupUser))
				}, false},
				{"user deactivated", func(t *testing.T, e *env, uid int64, _ string) {
					e.sql(t, `UPDATE "res_users" SET "active" = ? WHERE "id" = ?`, false, uid)
				}, true},
				{"session expired", func(t *testing.T, e *env, _ int64, sid string) {
					e.sql(t, `UPDATE "web_session" SET "expires" = ? WHERE "sid" = ?`, "2000-01-01 00:00:00", sid)
				}, true},
			} {
				t.Run(rv.name, func(t *testing.T) {
					uid := e.mqttUser(t, "sql"+rv.name[:1])
					sid := e.session(uid)
					c := e.mustDial(sid)
					e.checkRevoked(t, sentinel, c, sid, rv, func() { rv.revoke(t, e, uid, sid) })
				})
			}
		})
	}
	t.Run("postgres/other instance", func(t *testing.T) {
		modelstest.CheckLeaks(t)
		dsn := pgDSN(t)
		here := runBus(t, dsn, Options{AccessCheckInterval: noTick})
		there := runBus(t, dsn, Options{AccessCheckInterval: noTick})
		sentinel := here.mustDial(here.session(models.AdminUID))
		subscribe(t, sentinel, realtime, here.bus.LastID())
		testkit.Eventually(t, guard, "the sentinel's subscription", func() bool { return here.bus.listening(mqtt.ChannelRealtime) == 1 })
		uid := here.mqttUser(t, "remote")
		sid := here.session(uid)
		c := here.mustDial(sid)
		here.checkRevoked(t, sentinel, c, sid, revocations[0], func() { revocations[0].revoke(t, there, uid, sid) })
	})
}

// checkRevoked subscribes c (the session sid of an MQTT user) to
// mqtt_realtime, proves it hears a note, runs revoke, and checks that c
// hears nothing more: closed with 4001 when rv.closes; else its
// subscription drops the channel, and when the session then ends, nothing
// published after the change came before the close. sentinel, an
// administrator's socket on mqtt_realtime, shows the notes were published.
func (e *env) checkRevoked(t *testing.T, sentinel, c *websocket.Conn, sid string, rv revocation, revoke func()) {
	t.Helper()
	subscribe(t, c, realtime, e.bus.LastID())
	testkit.Eventually(t, guard, "the user's subscription", func() bool { return e.bus.listening(mqtt.ChannelRealtime) == 2 })
	first := e.publish(note(1))
	if got := readNotes(t, c, 1); got[0].ID != first[0].ID {
		t.Fatalf("before: got %d, want %d", got[0].ID, first[0].ID)
	}
	readNotes(t, sentinel, 1)

	revoke()
	if rv.closes {
		if notes, code := readUntilClose(t, c); code != CloseSessionExpired || len(notes) != 0 {
			t.Fatalf("closed with %d after notes %v, want 4001 and no note", code, ids(notes))
		}
		testkit.Eventually(t, guard, "the subscription to end", func() bool { return e.bus.listening(mqtt.ChannelRealtime) == 1 })
		return
	}
	testkit.Eventually(t, guard, "the channel to be dropped", func() bool { return e.bus.listening(mqtt.ChannelRealtime) == 1 })
	after := e.publish(note(2), note(3))
	readNotes(t, sentinel, 2)
	// Ending the session closes the socket after whatever it was sent.
	if err := e.reg.DeleteSession(context.Background(), sid); err != nil {
		t.Fatal(err)
	}
	if notes, code := readUntilClose(t, c); code != CloseSessionExpired || len(notes) != 0 {
		t.Fatalf("after the change: notes %v (published %v), closed with %d", ids(notes), ids(after), code)
	}
}

// readUntilClose reads notes until the server closes, and returns them
// with the close code.
func readUntilClose(t testing.TB, c *websocket.Conn) ([]wireNote, int) {
	t.Helper()
	c.SetPingHandler(func(string) error { return nil })
	_ = c.SetReadDeadline(time.Now().Add(guard))
	var got []wireNote
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok {
				t.Fatalf("read ended without a close frame: %v", err)
			}
			return got, ce.Code
		}
		var batch []wireNote
		if err := json.Unmarshal(data, &batch); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		got = append(got, batch...)
	}
}

// listening counts the live subscriptions on channel.
func (b *Bus) listening(channel string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for s := range b.subs {
		if s.channels[channel] {
			n++
		}
	}
	return n
}

// execAdmin runs a method as the administrator through the registry's
// dispatcher, as an RPC call does.
func (e *env) execAdmin(t testing.TB, model, method string, args ...any) any {
	t.Helper()
	res, err := e.reg.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: model, Method: method, Args: args})
	if err != nil {
		t.Fatalf("%s.%s%v: %v", model, method, args, err)
	}
	return res
}

// groupID is the res.groups id of a group key.
func (e *env) groupID(t testing.TB, key string) int64 {
	t.Helper()
	ids, _ := e.execAdmin(t, "res.groups", "search", []any{[]any{"xml_id", "=", key}}).([]int64)
	if len(ids) != 1 {
		t.Fatalf("group %s: %v", key, ids)
	}
	return ids[0]
}

// mqttUser creates an internal user in MQTT / User.
func (e *env) mqttUser(t testing.TB, login string) int64 {
	t.Helper()
	uid := modelstest.CreateUser(t, e.reg.Registry, login, "pw-"+login)
	e.execAdmin(t, "res.users", "write", []any{uid}, map[string]any{"groups_id": []any{[]any{int64(4), e.groupID(t, mqtt.GroupUser)}}})
	return uid
}

// sql runs a statement straight on the database, as another process
// would, with no access note.
func (e *env) sql(t testing.TB, q string, args ...any) {
	t.Helper()
	if err := e.reg.DB().Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// peek calls peek_notifications on mqtt_realtime above last as sid and
// returns the ids it got; a user who may not read the channel gets it
// dropped from "channels".
func (e *env) peek(t testing.TB, sid string, last int64) []int64 {
	t.Helper()
	_, out := e.post("/websocket/peek_notifications", sid,
		`{"jsonrpc":"2.0","method":"call","id":1,"params":{"channels":["mqtt_realtime"],"last":`+jsonInt(last)+`}}`)
	res, ok := out["result"].(map[string]any)
	if !ok {
		t.Fatalf("peek: %v", out)
	}
	chans := toStrings(res["channels"])
	var got []int64
	for _, n := range res["notifications"].([]any) {
		got = append(got, int64(n.(map[string]any)["id"].(float64)))
	}
	if len(got) > 0 && !slices.Equal(chans, realtime) {
		t.Fatalf("peek: notes %v on channels %v", got, chans)
	}
	return got
}
