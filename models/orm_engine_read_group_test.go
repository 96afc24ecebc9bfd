package models

import (
	"reflect"
	"testing"
)

// TestEngineReadGroup: read_group by a selection, a many2one and date
// intervals, lazy (one level, <field>_count, __context of the rest) and
// not (__count, every groupby), with default and explicit aggregates,
// orderby, and a __domain that selects exactly the group's records.
func TestEngineReadGroup(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env) // SO1: Tools, draft, 10.5, qty 3, 2024-03-04 05:06:07
		mk := func(name, state string, cat any, amount float64, qty int64, date string) int64 {
			return env.mustCreate(t, "test.order", map[string]any{"name": name, "state": state, "category_id": cat,
				"amount": amount, "qty": qty, "date_order": date, "day": date})
		}
		o2 := mk("SO2", "done", f.tools, 1.5, 1, "2024-03-31 23:59:59")
		o3 := mk("SO3", "done", f.misc, 4, 2, "2024-04-01 00:00:00")
		o4 := mk("SO4", "draft", false, 2, 5, "2023-12-31 12:00:00")
		group := func(args []any, kwargs map[string]any) []map[string]any {
			t.Helper()
			got, err := env.call("test.order", "read_group", args, kwargs)
			if err != nil {
				t.Fatalf("read_group %v %v: %v", args, kwargs, err)
			}
			var out []map[string]any
			for _, d := range got.([]*Dict) {
				out = append(out, dictMap(d))
			}
			return out
		}
		// members runs a group's __domain.
		members := func(g map[string]any) []int64 {
			t.Helper()
			ids, err := env.tsearch("test.order", g["__domain"], 0, 0, "id")
			if err != nil {
				t.Fatalf("search __domain %v: %v", g["__domain"], err)
			}
			return ids
		}
		type want struct {
			key     any
			count   int64
			aggs    map[string]any
			members []int64
		}
		// checkGroups compares groups in order, but for the group of no
		// value, which SQLite sorts first and PostgreSQL last among equals:
		// wants has it last.
		checkGroups := func(what string, got []map[string]any, keyName, countName string, wants []want) {
			t.Helper()
			var valued, none []map[string]any
			for _, g := range got {
				if g[keyName] == false {
					none = append(none, g)
				} else {
					valued = append(valued, g)
				}
			}
			got = append(valued, none...)
			if len(got) != len(wants) {
				t.Fatalf("%s: %d groups %v, want %d", what, len(got), got, len(wants))
			}
			for i, w := range wants {
				g := got[i]
				if !reflect.DeepEqual(g[keyName], w.key) || g[countName] != w.count {
					t.Errorf("%s group %d: %s = %#v, %s = %#v; want %#v, %d", what, i, keyName, g[keyName], countName, g[countName], w.key, w.count)
				}
				for k, v := range w.aggs {
					if !reflect.DeepEqual(g[k], v) {
						t.Errorf("%s group %v: %s = %#v, want %#v", what, w.key, k, g[k], v)
					}
				}
				if m := members(g); !reflect.DeepEqual(m, w.members) {
					t.Errorf("%s group %v: __domain %v selects %v, want %v", what, w.key, g["__domain"], m, w.members)
				}
			}
		}

		checkGroups("by state", group([]any{[]any{}, []any{"amount", "qty"}, []any{"state"}}, nil), "state", "state_count", []want{
			{"done", 2, map[string]any{"amount": 5.5, "qty": int64(3)}, []int64{o2, o3}},
			{"draft", 2, map[string]any{"amount": 12.5, "qty": int64(8)}, []int64{f.order, o4}},
		})
		checkGroups("by category, ordered by count", group([]any{[]any{}, []any{"amount:max", "n:count_distinct(state)"}, []any{"category_id"}},
			map[string]any{"orderby": "__count desc, category_id"}), "category_id", "category_id_count", []want{
			{[]any{f.tools, "Tools"}, 2, map[string]any{"amount": 10.5, "n": int64(2)}, []int64{f.order, o2}},
			{[]any{f.misc, "Misc"}, 1, map[string]any{"amount": 4.0, "n": int64(1)}, []int64{o3}},
			{false, 1, map[string]any{"amount": 2.0}, []int64{o4}},
		})
		checkGroups("with a domain", group([]any{[]any{L("amount", ">", 1.8)}, []any{}, []any{"state"}}, map[string]any{"orderby": "state desc"}),
			"state", "state_count", []want{{"draft", 2, nil, []int64{f.order, o4}}, {"done", 1, nil, []int64{o3}}})

		intervals := []struct {
			groupby string
			wants   []want
		}{
			{"date_order", []want{ // month by default
				{"December 2023", 1, nil, []int64{o4}}, {"March 2024", 2, nil, []int64{f.order, o2}}, {"April 2024", 1, nil, []int64{o3}}}},
			{"date_order:year", []want{{"2023", 1, nil, []int64{o4}}, {"2024", 3, nil, []int64{f.order, o2, o3}}}},
			{"date_order:quarter", []want{{"Q4 2023", 1, nil, []int64{o4}}, {"Q1 2024", 2, nil, []int64{f.order, o2}}, {"Q2 2024", 1, nil, []int64{o3}}}},
			{"date_order:week", []want{{"W52 2023", 1, nil, []int64{o4}}, {"W10 2024", 1, nil, []int64{f.order}}, {"W13 2024", 1, nil, []int64{o2}}, {"W14 2024", 1, nil, []int64{o3}}}},
			{"date_order:day", []want{{"31 Dec 2023", 1, nil, []int64{o4}}, {"04 Mar 2024", 1, nil, []int64{f.order}}, {"31 Mar 2024", 1, nil, []int64{o2}}, {"01 Apr 2024", 1, nil, []int64{o3}}}},
			{"day:month", []want{{"December 2023", 1, nil, []int64{o4}}, {"March 2024", 1, nil, []int64{o2}}, {"April 2024", 1, nil, []int64{o3}}, {false, 1, nil, []int64{f.order}}}},
		}
		for _, iv := range intervals {
			got := group([]any{[]any{}, []any{}, []any{iv.groupby}}, map[string]any{"lazy": false})
			checkGroups(iv.groupby, got, iv.groupby, "__count", iv.wants)
		}
		got := group([]any{[]any{}, []any{}, []any{"date_order:month"}}, map[string]any{"lazy": false})
		if rg, _ := got[0]["__range"].(map[string]any); !reflect.DeepEqual(rg["date_order:month"], map[string]any{"from": "2023-12-01 00:00:00", "to": "2024-01-01 00:00:00"}) {
			t.Errorf("__range = %#v", got[0]["__range"])
		}

		// Lazy with two groupbys: one level, the rest in __context.
		lazy := group([]any{[]any{}, []any{}, []any{"state", "category_id"}}, nil)
		if len(lazy) != 2 || !reflect.DeepEqual(lazy[0]["__context"], map[string]any{"group_by": []string{"category_id"}}) {
			t.Errorf("lazy read_group = %v", lazy)
		}
		if _, has := lazy[0]["category_id"]; has {
			t.Errorf("a lazy group carries the second groupby's value: %v", lazy[0])
		}
		full := group([]any{[]any{}, []any{"amount"}, []any{"state", "category_id"}}, map[string]any{"lazy": false})
		if len(full) != 4 { // done/Misc, done/Tools, draft/Tools, draft/none
			t.Fatalf("not lazy: %d groups %v", len(full), full)
		}
		for _, g := range full {
			if _, ok := g["__count"]; !ok {
				t.Errorf("not lazy group without __count: %v", g)
			}
			if m := members(g); int64(len(m)) != g["__count"] {
				t.Errorf("group %v %v: __domain selects %v", g["state"], g["category_id"], m)
			}
		}

		errs := []struct {
			what string
			args []any
			kw   map[string]any
			kind Kind
		}{
			{"no groupby", []any{[]any{}, []any{}, []any{}}, nil, KindValue},
			{"unknown groupby", []any{[]any{}, []any{}, []any{"nope"}}, nil, KindValue},
			{"interval on a char", []any{[]any{}, []any{}, []any{"name:day"}}, nil, KindValue},
			{"bad interval", []any{[]any{}, []any{}, []any{"date_order:hour"}}, nil, KindValue},
			{"group by a secret", []any{[]any{}, []any{}, []any{"token"}}, nil, KindValue},
			{"unknown aggregate", []any{[]any{}, []any{"amount:median"}, []any{"state"}}, nil, KindValue},
			{"bad orderby", []any{[]any{}, []any{}, []any{"state"}}, map[string]any{"orderby": "state sideways"}, KindUser},
		}
		for _, e := range errs {
			if _, err := env.call("test.order", "read_group", e.args, e.kw); KindOf(err) != e.kind {
				t.Errorf("read_group %s: %v, want kind %v", e.what, err, e.kind)
			}
		}
	})
}
