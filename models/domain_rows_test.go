package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// domainRowModels hands forEachDB fresh copies of the test models.
func domainRowModels() []func() *Model {
	var out []func() *Model
	for i := range domainTestModels() {
		out = append(out, func() *Model { return domainTestModels()[i] })
	}
	return out
}

// TestDomainRows runs domains and orders on real rows, on SQLite and (when
// configured) PostgreSQL, so the SQL is checked by both databases and the
// NULL semantics by the rows they return.
func TestDomainRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *Registry) {
		env := r.testEnv(t)
		ids := map[string]int64{}
		labels := map[string]map[int64]string{} // model -> id -> label
		mk := func(label, model string, vals map[string]any) {
			ids[label] = env.mustCreate(t, model, vals)
			if labels[model] == nil {
				labels[model] = map[int64]string{}
			}
			labels[model][ids[label]] = label
		}
		set := func(labels ...string) []any {
			out := []any{}
			for _, l := range labels {
				out = append(out, ids[l])
			}
			return []any{[]any{int64(6), int64(0), out}}
		}
		mk("red", "test.tag", map[string]any{"name": "red", "color": int64(1)})
		mk("blue", "test.tag", map[string]any{"name": "blue", "color": int64(2)})
		mk("old", "test.tag", map[string]any{"name": "old", "active": false})
		mk("P1", "test.parent", map[string]any{"name": "alpha", "tag_ids": set("red", "blue")})
		mk("P2", "test.parent", map[string]any{"name": "beta", "parent_id": ids["P1"], "tag_ids": set("red", "old")})
		mk("P3", "test.parent", map[string]any{"name": "gamma", "parent_id": ids["P2"], "active": false})
		mk("P4", "test.parent", map[string]any{})
		mk("C1", "test.child", map[string]any{"name": "one", "count": int64(1), "ratio": 0.5, "flag": true,
			"stamp": "2024-01-02 10:00:00", "day": "2024-01-02", "state": "new", "note": "hello world", "parent_id": ids["P1"]})
		mk("C2", "test.child", map[string]any{"name": "two", "count": int64(2), "ratio": 1.5, "flag": false,
			"stamp": "2024-01-02 23:59:59", "state": "done", "parent_id": ids["P2"]})
		mk("C3", "test.child", map[string]any{"name": "Three", "stamp": "2024-01-03 00:00:00", "parent_id": ids["P3"]})
		mk("C4", "test.child", map[string]any{"count": int64(4)})
		inactive := env.WithContext(map[string]any{"active_test": false})

		tests := []struct {
			name   string
			env    *Env
			model  string
			domain []any
			order  string
			want   string // labels in the order returned
		}{
			{"all", env, "test.child", nil, "id", "C1 C2 C3 C4"},
			{"=", env, "test.child", []any{L("name", "=", "one")}, "id", "C1"},
			{"= False", env, "test.child", []any{L("name", "=", false)}, "id", "C4"},
			{"!= matches NULL", env, "test.child", []any{L("name", "!=", "one")}, "id", "C2 C3 C4"},
			{"!= False", env, "test.child", []any{L("name", "!=", false)}, "id", "C1 C2 C3"},
			{"not = is !=", env, "test.child", []any{"!", L("name", "=", "one")}, "id", "C2 C3 C4"},
			{"like is case-sensitive", env, "test.child", []any{L("name", "like", "T")}, "id", "C3"},
			{"like", env, "test.child", []any{L("name", "like", "o")}, "id", "C1 C2"},
			{"ilike", env, "test.child", []any{L("name", "ilike", "t")}, "id", "C2 C3"},
			{"ilike empty matches all", env, "test.child", []any{L("name", "ilike", "")}, "id", "C1 C2 C3 C4"},
			{"not ilike matches NULL", env, "test.child", []any{L("name", "not ilike", "O")}, "id", "C3 C4"},
			{"=like", env, "test.child", []any{L("name", "=like", "t%")}, "id", "C2"},
			{"=ilike", env, "test.child", []any{L("name", "=ilike", "T%")}, "id", "C2 C3"},
			{"like on text", env, "test.child", []any{L("note", "like", "lo wo")}, "id", "C1"},
			{"like on integer", env, "test.child", []any{L("count", "like", int64(4))}, "id", "C4"},
			{">", env, "test.child", []any{L("count", ">", int64(1))}, "id", "C2 C4"},
			{"<=", env, "test.child", []any{L("count", "<=", float64(2))}, "id", "C1 C2"},
			{"integer > fraction", env, "test.child", []any{L("count", ">", 1.5)}, "id", "C2 C4"},
			{"integer < fraction", env, "test.child", []any{L("count", "<", 1.5)}, "id", "C1"},
			{"integer >= negative fraction", env, "test.child", []any{L("count", ">=", -0.5)}, "id", "C1 C2 C4"},
			{"integer in fractions", env, "test.child", []any{L("count", "in", []any{1.5, float64(2)})}, "id", "C2"},
			{"float >=", env, "test.child", []any{L("ratio", ">=", 1)}, "id", "C2"},
			{"in", env, "test.child", []any{L("count", "in", []any{int64(1), int64(4)})}, "id", "C1 C4"},
			{"in with False", env, "test.child", []any{L("count", "in", []any{int64(1), false})}, "id", "C1 C3"},
			{"not in matches NULL", env, "test.child", []any{L("count", "not in", []any{int64(1)})}, "id", "C2 C3 C4"},
			{"not in with False", env, "test.child", []any{L("count", "not in", []any{int64(1), false})}, "id", "C2 C4"},
			{"in []", env, "test.child", []any{L("count", "in", []any{})}, "id", ""},
			{"not in []", env, "test.child", []any{L("count", "not in", []any{})}, "id", "C1 C2 C3 C4"},
			{"=? False", env, "test.child", []any{L("count", "=?", false)}, "id", "C1 C2 C3 C4"},
			{"=? value", env, "test.child", []any{L("count", "=?", int64(2))}, "id", "C2"},
			{"bool = True", env, "test.child", []any{L("flag", "=", true)}, "id", "C1"},
			{"bool = False has NULL", env, "test.child", []any{L("flag", "=", false)}, "id", "C2 C3 C4"},
			{"bool != True", env, "test.child", []any{L("flag", "!=", true)}, "id", "C2 C3 C4"},
			{"bool != False", env, "test.child", []any{L("flag", "!=", false)}, "id", "C1"},
			{"datetime > day pads 23:59:59", env, "test.child", []any{L("stamp", ">", "2024-01-02")}, "id", "C3"},
			{"datetime <= day pads 23:59:59", env, "test.child", []any{L("stamp", "<=", "2024-01-02")}, "id", "C1 C2"},
			{"datetime >= day pads 00:00:00", env, "test.child", []any{L("stamp", ">=", "2024-01-02")}, "id", "C1 C2 C3"},
			{"datetime < day", env, "test.child", []any{L("stamp", "<", "2024-01-03")}, "id", "C1 C2"},
			{"datetime =", env, "test.child", []any{L("stamp", "=", "2024-01-02 23:59:59")}, "id", "C2"},
			{"date", env, "test.child", []any{L("day", "=", "2024-01-02")}, "id", "C1"},
			{"selection !=", env, "test.child", []any{L("state", "!=", "done")}, "id", "C1 C3 C4"},
			{"or", env, "test.child", []any{"|", L("count", "=", 1), L("count", "=", 4)}, "id", "C1 C4"},
			{"not or", env, "test.child", []any{"!", "|", L("count", "=", 1), L("count", "=", 4)}, "id", "C2 C3"},
			{"display_name", env, "test.child", []any{L("display_name", "ilike", "HRE")}, "id", "C3"},
			{"related", env, "test.child", []any{L("parent_name", "=", "beta")}, "id", "C2"},
			{"id", env, "test.child", []any{L("id", "=", ids["C2"])}, "id", "C2"},

			{"m2o id", env, "test.child", []any{L("parent_id", "=", ids["P1"])}, "id", "C1"},
			{"m2o False", env, "test.child", []any{L("parent_id", "=", false)}, "id", "C4"},
			{"m2o name", env, "test.child", []any{L("parent_id", "ilike", "ALP")}, "id", "C1"},
			{"m2o name of inactive", env, "test.child", []any{L("parent_id", "=", "gamma")}, "id", "C3"},
			{"m2o names", env, "test.child", []any{L("parent_id", "in", []any{"alpha", "beta"})}, "id", "C1 C2"},
			{"m2o negative name", env, "test.child", []any{L("parent_id", "not ilike", "alp")}, "id", "C2 C3 C4"},
			{"dotted m2o", env, "test.child", []any{L("parent_id.name", "=", "beta")}, "id", "C2"},
			{"dotted two hops", env, "test.child", []any{L("parent_id.parent_id.name", "=", "alpha")}, "id", "C2"},
			{"dotted m2o.m2m", env, "test.child", []any{L("parent_id.tag_ids.name", "=", "blue")}, "id", "C1"},
			{"dotted m2o.m2m keeps inactive", env, "test.child", []any{L("parent_id.tag_ids.name", "=", "old")}, "id", "C2"},
			{"child_of", env, "test.child", []any{L("parent_id", "child_of", ids["P1"])}, "id", "C1 C2 C3"},
			{"child_of name", env, "test.child", []any{L("parent_id", "child_of", "beta")}, "id", "C2 C3"},
			{"parent_of", env, "test.child", []any{L("parent_id", "parent_of", []any{ids["P2"]})}, "id", "C1 C2"},
			{"child_of without hierarchy", env, "test.child", []any{L("id", "child_of", ids["C1"])}, "id", "C1"},

			{"active filter", env, "test.parent", nil, "id", "P1 P2 P4"},
			{"active mentioned", env, "test.parent", []any{L("active", "=", false)}, "id", "P3"},
			{"active_test off", inactive, "test.parent", nil, "id", "P1 P2 P3 P4"},
			{"name = False", env, "test.parent", []any{L("name", "=", false)}, "id", "P4"},
			{"o2m = False", env, "test.parent", []any{L("child_ids", "=", false)}, "id", "P4"},
			{"o2m != False", env, "test.parent", []any{L("child_ids", "!=", false)}, "id", "P1 P2"},
			{"o2m in", env, "test.parent", []any{L("child_ids", "in", []any{ids["C1"]})}, "id", "P1"},
			{"o2m = id", env, "test.parent", []any{L("child_ids", "=", ids["C2"])}, "id", "P2"},
			{"o2m not in", env, "test.parent", []any{L("child_ids", "not in", []any{ids["C1"]})}, "id", "P2 P4"},
			{"o2m name", env, "test.parent", []any{L("child_ids", "ilike", "TWO")}, "id", "P2"},
			{"dotted o2m", env, "test.parent", []any{L("child_ids.count", ">=", 2)}, "id", "P2"},
			{"m2m = False", env, "test.parent", []any{L("tag_ids", "=", false)}, "id", "P4"},
			{"m2m != False", env, "test.parent", []any{L("tag_ids", "!=", false)}, "id", "P1 P2"},
			{"m2m in", env, "test.parent", []any{L("tag_ids", "in", []any{ids["blue"]})}, "id", "P1"},
			{"m2m not in", env, "test.parent", []any{L("tag_ids", "not in", []any{ids["red"]})}, "id", "P4"},
			{"m2m name skips inactive tags", env, "test.parent", []any{L("tag_ids", "=", "old")}, "id", ""},
			{"m2m name with active_test off", inactive, "test.parent", []any{L("tag_ids", "=", "old")}, "id", "P2"},
			{"dotted m2m", env, "test.parent", []any{L("tag_ids.name", "=", "blue")}, "id", "P1"},
			{"m2m negative name", env, "test.parent", []any{L("tag_ids", "not ilike", "blu")}, "id", "P2 P4"},
			{"id child_of", inactive, "test.parent", []any{L("id", "child_of", ids["P2"])}, "id", "P2 P3"},
			{"id parent_of", env, "test.parent", []any{L("id", "parent_of", ids["P3"])}, "id", "P1 P2"},

			{"default order (stamp desc, id)", env, "test.child", nil, "", "C4 C3 C2 C1"},
			{"order by m2o sorts by comodel name", env, "test.child", nil, "parent_id, id", "C1 C2 C3 C4"},
			{"order by m2o desc", env, "test.child", nil, "parent_id desc, id", "C4 C3 C2 C1"},
			{"order desc puts NULL first", env, "test.child", nil, "count desc", "C3 C4 C2 C1"},
			{"order asc puts NULL last", env, "test.child", nil, "count", "C1 C2 C4 C3"},
			{"order boolean NULL as false", env, "test.child", nil, "flag desc, id", "C1 C2 C3 C4"},
			{"order by name", env, "test.parent", nil, "", "P1 P2 P4"},
			{"order by own m2o, NULL first when desc", env, "test.parent", nil, "parent_id desc, id", "P1 P4 P2"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.env.tsearch(tc.model, tc.domain, 0, 0, tc.order)
				if err != nil {
					t.Fatalf("search %s: %v", py.Repr(tc.domain), err)
				}
				names := make([]string, len(got))
				for i, id := range got {
					names[i] = labels[tc.model][id]
				}
				if s := strings.Join(names, " "); s != tc.want {
					t.Errorf("search %s order %q = %s, want %s", py.Repr(tc.domain), tc.order, s, tc.want)
				}
			})
		}
	}, domainRowModels()...)
}

// TestDomainRandomSQL compiles random domains from a vocabulary of paths,
// operators and values and runs them on the databases: every domain must
// either be refused with a client error or run; an internal error means the
// compiler produced SQL a database rejects.
func TestDomainRandomSQL(t *testing.T) {
	paths := []string{"name", "count", "ratio", "flag", "stamp", "day", "state", "note", "id",
		"display_name", "parent_name", "parent_id", "parent_id.name", "parent_id.active",
		"parent_id.tag_ids", "parent_id.tag_ids.name", "parent_id.child_ids.count", "parent_id.parent_id",
		"tag_id", "tag_id.color", "create_uid", "create_uid.login", "write_date"}
	ops := []string{"=", "!=", "<>", ">", ">=", "<", "<=", "=?", "=like", "=ilike", "like", "not like",
		"ilike", "not ilike", "in", "not in", "child_of", "parent_of"}
	values := []any{nil, false, true, int64(0), int64(1), float64(2), 2.5, "", "a%", "T",
		"2024-01-02", "2024-01-02 10:00:00", "new", []any{}, []any{int64(1), false},
		[]any{"alpha", "b"}, []any{true, int64(0)}}
	forEachDB(t, func(t *testing.T, r *Registry) {
		env := r.testEnv(t)
		p := env.mustCreate(t, "test.parent", map[string]any{"name": "alpha"})
		env.mustCreate(t, "test.child", map[string]any{"name": "one", "parent_id": p, "stamp": "2024-01-02 10:00:00"})
		rng := rand.New(rand.NewPCG(1, 2))
		var leafOrOp func(depth int) []any
		leafOrOp = func(depth int) []any {
			switch k := rng.IntN(6); {
			case depth < 3 && k == 0:
				return append(append([]any{"|"}, leafOrOp(depth+1)...), leafOrOp(depth+1)...)
			case depth < 3 && k == 1:
				return append([]any{"!"}, leafOrOp(depth+1)...)
			}
			return []any{L(paths[rng.IntN(len(paths))], ops[rng.IntN(len(ops))], values[rng.IntN(len(values))])}
		}
		ran := 0
		for range 1500 {
			var dom []any
			for range 1 + rng.IntN(3) {
				dom = append(dom, leafOrOp(0)...)
			}
			_, err := env.tsearch("test.child", dom, 0, 0, "parent_id desc, tag_id, flag")
			switch KindOf(err) {
			case KindValue, KindAccess:
			case KindInternal:
				if err != nil {
					t.Fatalf("domain %s: %v", py.Repr(dom), err)
				}
				ran++
			default:
				t.Fatalf("domain %s: unexpected %v", py.Repr(dom), err)
			}
		}
		t.Logf("%d of 1500 random domains ran, the others were refused", ran)
		if ran < 300 {
			t.Errorf("only %d of 1500 random domains ran", ran)
		}
	}, domainRowModels()...)
}
