package mqtt_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// TestRecordRules: every generic ORM method (as the engine lists them, so
// that a method added later must get a probe here), called on
// res.users.apikeys (whose rule shows users their own keys only) by a user
// of each group, reveals no key outside the user's rule: no foreign id, no
// foreign description, no count that includes them. The same holds for
// the keys seen through res.users.api_key_ids and through a domain on it.
// Settings members see every key, as in Odoo (its api_key_admin rule).
func TestRecordRules(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		f := newRulesFixture(t, r)
		for _, who := range f.actors {
			t.Run(who.name, func(t *testing.T) {
				covered := map[string]bool{}
				for _, p := range apikeyProbes {
					covered[p.method] = true
					t.Run(p.method, func(t *testing.T) { p.run(t, f.probe(t, who, "res.users.apikeys")) })
				}
				for _, m := range models.GenericMethods() {
					if !covered[m] {
						t.Errorf("generic method %s has no record-rule probe: add one to apikeyProbes", m)
					}
				}
				t.Run("res.users api_key_ids", func(t *testing.T) { probeAPIKeyIDs(t, f.probe(t, who, "res.users")) })
			})
		}
	})
}

// actor is a user of one group, with the keys its rule lets it see.
type actor struct {
	name  string
	uid   int64
	owns  []int64 // key ids inside the rule
	sees  bool    // may read keys at all
	admin bool    // rules do not apply (Settings)
}

type rulesFixture struct {
	r      *modelstest.App
	actors []*actor
	keys   map[int64]string // every key id -> its description
	owner  map[int64]int64  // key id -> user id
}

// newRulesFixture creates a user per group (no group at all standing for
// the public user: there is no portal), each with two API keys, plus two
// keys of the administrator, committed.
func newRulesFixture(t *testing.T, r *modelstest.App) *rulesFixture {
	t.Helper()
	f := &rulesFixture{r: r, keys: map[int64]string{}, owner: map[int64]int64{}}
	groups := []struct{ name, group string }{
		{"no group", ""}, {"internal user", models.GroupUser}, {"MQTT user", mqtt.GroupUser},
		{"MQTT manager", mqtt.GroupManager}, {"settings", ""},
	}
	for i, g := range groups {
		a := &actor{name: g.name, sees: i > 0, admin: g.name == "settings"}
		if a.admin {
			a.uid = models.AdminUID
		} else {
			login := fmt.Sprintf("rules%d", i)
			a.uid = modelstest.CreateUser(t, r.Registry, login, "pw-"+login)
			if g.group != "" {
				f.exec(t, models.AdminUID, "res.users", "write", []any{a.uid}, map[string]any{"groups_id": []any{[]any{int64(4), f.groupID(t, g.group)}}})
			}
		}
		for k := range 2 {
			name := fmt.Sprintf("key %d of %s", k, g.name)
			f.exec(t, a.uid, "res.users.apikeys", "generate", name)
			ids, _ := f.exec(t, models.Superuser, "res.users.apikeys", "search", []any{[]any{"name", "=", name}}).([]int64)
			if len(ids) != 1 {
				t.Fatalf("key %q: %v", name, ids)
			}
			f.keys[ids[0]], f.owner[ids[0]] = name, a.uid
			a.owns = append(a.owns, ids[0])
		}
		f.actors = append(f.actors, a)
	}
	for _, a := range f.actors {
		if a.admin {
			a.owns = f.allKeys()
		}
	}
	return f
}

func (f *rulesFixture) exec(t *testing.T, uid int64, model, method string, args ...any) any {
	t.Helper()
	res, err := f.r.Execute(context.Background(), models.Call{UID: uid, Model: model, Method: method, Args: args})
	if err != nil {
		t.Fatalf("%s.%s as %d: %v", model, method, uid, err)
	}
	return res
}

func (f *rulesFixture) groupID(t *testing.T, key string) int64 {
	t.Helper()
	ids, _ := f.exec(t, models.Superuser, "res.groups", "search", []any{[]any{"xml_id", "=", key}}).([]int64)
	if len(ids) != 1 {
		t.Fatalf("group %s: %v", key, ids)
	}
	return ids[0]
}

func (f *rulesFixture) allKeys() []int64 {
	var out []int64
	for id := range f.keys {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// probe is one actor calling methods of one model, each call in a
// transaction of its own that is rolled back (writes that succeed leave
// nothing behind; a failed statement cannot spoil the next call).
type probe struct {
	t     *testing.T
	f     *rulesFixture
	who   *actor
	model string
}

func (f *rulesFixture) probe(t *testing.T, who *actor, model string) *probe {
	return &probe{t: t, f: f, who: who, model: model}
}

// call runs method with RPC binding as the actor, and fails the test when
// the answer (result or error message) names a key outside the rule.
func (p *probe) call(method string, args []any, kwargs map[string]any) (any, error) {
	p.t.Helper()
	env, end, err := p.f.r.Begin(context.Background(), p.who.uid)
	if err != nil {
		p.t.Fatal(err)
	}
	defer func() { _ = end(false) }()
	got, err := env.Call(env.Registry().Model(p.model), method, args, kwargs)
	text := fmt.Sprintf("%v", flatten(got))
	if err != nil {
		text += " " + err.Error()
	}
	for id, name := range p.f.keys {
		if !p.inRule(id) && strings.Contains(text, name) {
			p.t.Errorf("%s%v %v reveals %q (a key outside the rule): %s", method, args, kwargs, name, text)
		}
	}
	return got, err
}

// inRule reports whether key id is one the actor may see.
func (p *probe) inRule(id int64) bool { return slices.Contains(p.who.owns, id) }

// foreign returns the keys outside the actor's rule.
func (p *probe) foreign() []any {
	var out []any
	for _, id := range p.f.allKeys() {
		if !p.inRule(id) {
			out = append(out, id)
		}
	}
	return out
}

func (p *probe) all() []any {
	var out []any
	for _, id := range p.f.allKeys() {
		out = append(out, id)
	}
	return out
}

// ids checks that the key ids a result names are inside the rule, and,
// when exact, that they are all of the actor's keys.
func (p *probe) ids(what string, got []int64, exact bool) {
	p.t.Helper()
	for _, id := range got {
		if !p.inRule(id) {
			p.t.Errorf("%s reveals key %d (%q), outside the rule", what, id, p.f.keys[id])
		}
	}
	if exact && p.who.sees && !sameSet(got, p.who.owns) {
		p.t.Errorf("%s = %v, want the actor's keys %v", what, got, p.who.owns)
	}
}

// count checks a count of keys against what the rule lets the actor see.
func (p *probe) count(what string, got any, err error) {
	p.t.Helper()
	if err != nil {
		p.readErr(what, err)
		return
	}
	if n, _ := got.(int64); n != int64(len(p.who.owns)) {
		p.t.Errorf("%s = %v, want %d (the keys inside the rule)", what, got, len(p.who.owns))
	}
}

// readErr accepts the AccessError of a user who may not read keys at all,
// or of a read that names keys outside the rule (Odoo's answer too).
func (p *probe) readErr(what string, err error) {
	p.t.Helper()
	if models.KindOf(err) != models.KindAccess {
		p.t.Errorf("%s: %v, want a result or an AccessError", what, err)
	}
}

// refused checks that a change of keys outside the rule fails.
func (p *probe) refused(what string, err error) {
	p.t.Helper()
	if err == nil && len(p.foreign()) > 0 {
		p.t.Errorf("%s on keys outside the rule succeeded", what)
	}
}

// apikeyProbes call each generic method on res.users.apikeys, on every key
// (so keys outside the rule are asked for) where the method takes ids.
var apikeyProbes = []struct {
	method string
	run    func(t *testing.T, p *probe)
}{
	{"search", func(t *testing.T, p *probe) {
		got, err := p.call("search", []any{[]any{}}, nil)
		if err != nil {
			p.readErr("search", err)
		} else {
			p.ids("search", got.([]int64), true)
		}
		got, err = p.call("search", []any{[]any{[]any{"id", "in", p.all()}}}, map[string]any{"count": true})
		p.count("search count=True", got, err)
	}},
	{"search_count", func(t *testing.T, p *probe) {
		got, err := p.call("search_count", []any{[]any{}}, nil)
		p.count("search_count", got, err)
		got, err = p.call("search_count", []any{[]any{[]any{"name", "ilike", "key"}}}, nil)
		p.count("search_count on names", got, err)
	}},
	{"search_read", func(t *testing.T, p *probe) {
		got, err := p.call("search_read", []any{[]any{}}, map[string]any{"fields": []any{"name", "user_id", "display_name"}})
		if err != nil {
			p.readErr("search_read", err)
			return
		}
		p.ids("search_read", dictIDs(got.([]*models.Dict)), true)
	}},
	{"web_search_read", func(t *testing.T, p *probe) {
		for _, limit := range []int64{0, 1} {
			got, err := p.call("web_search_read", []any{[]any{}, []any{"name"}}, map[string]any{"limit": limit})
			if err != nil {
				p.readErr("web_search_read", err)
				return
			}
			d := got.(*models.Dict)
			recs, _ := d.Get("records")
			p.ids("web_search_read records", dictIDs(recs.([]*models.Dict)), limit == 0)
			length, _ := d.Get("length")
			p.count(fmt.Sprintf("web_search_read length (limit %d)", limit), length, nil)
		}
	}},
	{"read", func(t *testing.T, p *probe) {
		for _, ids := range [][]any{p.all(), p.foreign()} {
			got, err := p.call("read", []any{ids, []any{"name", "user_id", "display_name"}}, nil)
			if err != nil {
				p.readErr("read", err)
				continue
			}
			p.ids("read", dictIDs(got.([]*models.Dict)), false)
		}
		if p.who.sees {
			if _, err := p.call("read", []any{toAny(p.who.owns), []any{"name"}}, nil); err != nil {
				t.Errorf("read of the actor's own keys: %v", err)
			}
		}
	}},
	{"export_data", func(t *testing.T, p *probe) {
		for _, ids := range [][]any{p.all(), p.foreign()} {
			if _, err := p.call("export_data", []any{ids, []any{".id", "name", "user_id/name"}}, nil); err != nil {
				p.readErr("export_data", err)
			}
		}
		if p.who.sees {
			got, err := p.call("export_data", []any{toAny(p.who.owns), []any{".id", "name"}}, nil)
			if err != nil {
				t.Errorf("export_data of the actor's own keys: %v", err)
			} else if d, _ := got.(*models.Dict); d != nil {
				rows, _ := d.Get("datas")
				if n := len(rows.([][]any)); n != len(p.who.owns) {
					t.Errorf("export_data of own keys: %d rows, want %d", n, len(p.who.owns))
				}
			}
		}
	}},
	{"exists", func(t *testing.T, p *probe) {
		got, err := p.call("exists", []any{p.all()}, nil)
		if err != nil {
			p.readErr("exists", err)
			return
		}
		p.ids("exists", got.([]int64), true)
	}},
	{"name_get", func(t *testing.T, p *probe) {
		for _, ids := range [][]any{p.all(), p.foreign()} {
			got, err := p.call("name_get", []any{ids}, nil)
			if err != nil {
				p.readErr("name_get", err)
				continue
			}
			p.ids("name_get", pairIDs(got), false)
		}
		if p.who.sees {
			got, err := p.call("name_get", []any{toAny(p.who.owns)}, nil)
			if err != nil {
				t.Errorf("name_get of the actor's own keys: %v", err)
			} else {
				p.ids("name_get of own keys", pairIDs(got), true)
			}
		}
	}},
	{"name_search", func(t *testing.T, p *probe) {
		for _, name := range []string{"", "key", "of"} {
			got, err := p.call("name_search", []any{name}, nil)
			if err != nil {
				p.readErr("name_search", err)
				continue
			}
			p.ids("name_search "+name, pairIDs(got), true)
		}
	}},
	{"read_group", func(t *testing.T, p *probe) {
		got, err := p.call("read_group", []any{[]any{}, []any{"user_id"}, []any{"user_id"}}, nil)
		if err != nil {
			p.readErr("read_group", err)
			return
		}
		var total int64
		for _, g := range got.([]*models.Dict) {
			n, _ := g.Get("user_id_count")
			total += n.(int64)
			if u, _ := g.Get("user_id"); !p.who.admin {
				if pair, ok := u.([]any); !ok || pair[0] != p.who.uid {
					t.Errorf("read_group shows a group of user %v", u)
				}
			}
		}
		p.count("read_group counts", total, nil)
	}},
	{"get_metadata", func(t *testing.T, p *probe) {
		got, err := p.call("get_metadata", []any{p.all()}, nil)
		if err != nil {
			p.readErr("get_metadata", err)
			return
		}
		p.ids("get_metadata", dictIDs(got.([]*models.Dict)), false)
	}},
	{"copy", func(t *testing.T, p *probe) {
		for _, id := range p.foreign() {
			_, err := p.call("copy", []any{id}, nil)
			p.refused("copy", err)
		}
	}},
	{"write", func(t *testing.T, p *probe) {
		_, err := p.call("write", []any{p.foreign(), map[string]any{"scope": "x"}}, nil)
		p.refused("write", err)
	}},
	{"unlink", func(t *testing.T, p *probe) {
		_, err := p.call("unlink", []any{p.foreign()}, nil)
		p.refused("unlink", err)
		for _, id := range p.foreign() {
			_, err := p.call("unlink", []any{[]any{id}}, nil)
			p.refused("unlink of one key", err)
		}
	}},
	{"action_archive", func(t *testing.T, p *probe) {
		_, err := p.call("action_archive", []any{p.foreign()}, nil)
		p.refused("action_archive", err)
	}},
	{"action_unarchive", func(t *testing.T, p *probe) {
		_, err := p.call("action_unarchive", []any{p.foreign()}, nil)
		p.refused("action_unarchive", err)
	}},
	{"toggle_active", func(t *testing.T, p *probe) {
		_, err := p.call("toggle_active", []any{p.foreign()}, nil)
		p.refused("toggle_active", err)
	}},
	// No records in the answer: called for what their messages might say.
	{"create", func(t *testing.T, p *probe) {
		_, _ = p.call("create", []any{map[string]any{"name": "made", "user_id": p.who.uid}}, nil)
	}},
	{"name_create", func(t *testing.T, p *probe) { _, _ = p.call("name_create", []any{"made"}, nil) }},
	{"default_get", func(t *testing.T, p *probe) {
		_, _ = p.call("default_get", []any{[]any{"name", "user_id", "scope"}}, nil)
	}},
	{"fields_get", func(t *testing.T, p *probe) { _, _ = p.call("fields_get", nil, nil) }},
	{"fields_get_keys", func(t *testing.T, p *probe) { _, _ = p.call("fields_get_keys", nil, nil) }},
	{"check_access_rights", func(t *testing.T, p *probe) {
		_, _ = p.call("check_access_rights", []any{"read"}, map[string]any{"raise_exception": false})
	}},
}

// probeAPIKeyIDs reads res.users.api_key_ids through every reading method,
// and searches users through a domain on it: only keys inside the rule.
func probeAPIKeyIDs(t *testing.T, p *probe) {
	users := []any{}
	for _, a := range p.f.actors {
		users = append(users, a.uid)
	}
	keysOf := func(what string, recs []*models.Dict) {
		t.Helper()
		var seen []int64
		for _, d := range recs {
			v, _ := d.Get("api_key_ids")
			seen = append(seen, v.([]int64)...)
		}
		p.ids(what, seen, true)
	}
	for _, fields := range []any{[]any{"api_key_ids"}, []any{}} {
		got, err := p.call("read", []any{users, fields}, nil)
		if err != nil {
			p.readErr("read", err)
			return
		}
		keysOf(fmt.Sprintf("read %v", fields), got.([]*models.Dict))
	}
	got, err := p.call("search_read", []any{[]any{[]any{"id", "in", users}}}, map[string]any{"fields": []any{"api_key_ids"}})
	if err != nil {
		t.Fatal(err)
	}
	keysOf("search_read", got.([]*models.Dict))
	got, err = p.call("web_search_read", []any{[]any{[]any{"id", "in", users}}, []any{"api_key_ids"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := got.(*models.Dict).Get("records")
	keysOf("web_search_read", recs.([]*models.Dict))

	// Who has a key: the domain sees keys through the same rule.
	got, err = p.call("search", []any{[]any{[]any{"id", "in", users}, []any{"api_key_ids.name", "ilike", "key"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, id := range p.who.owns {
		if !slices.Contains(want, p.f.owner[id]) {
			want = append(want, p.f.owner[id])
		}
	}
	if !sameSet(got.([]int64), want) {
		t.Errorf("users with a key matching a domain = %v, want %v", got, want)
	}
}

func dictIDs(recs []*models.Dict) []int64 {
	out := make([]int64, 0, len(recs))
	for _, d := range recs {
		id, _ := d.Get("id")
		out = append(out, id.(int64))
	}
	return out
}

// pairIDs reads the ids of name_get's [[id, name], ...].
func pairIDs(v any) []int64 {
	var out []int64
	for _, x := range v.([]any) {
		out = append(out, x.([]any)[0].(int64))
	}
	return out
}

func sameSet(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func toAny(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// flatten renders a result with its dicts as maps, so that a search for
// names in its text sees every value.
func flatten(v any) any {
	switch x := v.(type) {
	case *models.Dict:
		m := map[string]any{}
		x.Range(func(k string, v any) bool { m[k] = flatten(v); return true })
		return m
	case []*models.Dict:
		out := make([]any, len(x))
		for i, d := range x {
			out[i] = flatten(d)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = flatten(e)
		}
		return out
	}
	return v
}
