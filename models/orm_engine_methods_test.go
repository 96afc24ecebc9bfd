package models

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestEngineGenericMethods: the ORM methods every model answers over RPC,
// with Odoo 16's binding: create with a dict or a list, search with
// count/offset/limit/order given positionally, by keyword or False,
// search_count, name_get, name_search, name_create, exists, copy (default,
// NoCopy, many2many), default_get (defaults and default_<field> context
// keys), fields_get (attributes, allfields), search_read through dotted
// domains, web_search_read's length, archiving.
func TestEngineGenericMethods(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		call := func(method string, args []any, kwargs map[string]any) any {
			t.Helper()
			got, err := env.call("test.order", method, args, kwargs)
			if err != nil {
				t.Fatalf("%s%v %v: %v", method, args, kwargs, err)
			}
			return got
		}
		check := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", what, got, want)
			}
		}
		one := call("create", []any{map[string]any{"name": "B", "amount": 2.0}}, nil)
		if _, ok := one.(int64); !ok {
			t.Fatalf("create(dict) = %#v, want an id", one)
		}
		list := call("create", []any{[]any{map[string]any{"name": "C", "amount": 3.0}, map[string]any{"name": "A", "amount": 1.0}}}, nil)
		ids, ok := list.([]int64)
		if !ok || len(ids) != 2 {
			t.Fatalf("create(list) = %#v, want two ids", list)
		}
		b, c, a := one.(int64), ids[0], ids[1]
		_, err := env.call("test.order", "create", []any{[]any{"x"}}, nil)
		wantErr(t, "create of a list of strings", err, KindValue, "create expects a dict")

		// Orders: SO1 (f.order), B, C, A; default order name, id.
		all := []any{}
		searches := []struct {
			what   string
			args   []any
			kwargs map[string]any
			want   any
		}{
			{"default order", []any{all}, nil, []int64{a, b, c, f.order}},
			{"count", []any{all}, map[string]any{"count": true}, int64(4)},
			{"positional offset, limit, order", []any{all, int64(1), int64(2), "amount desc"}, nil, []int64{c, b}},
			{"keyword offset, limit, order", []any{all}, map[string]any{"offset": int64(2), "limit": int64(5), "order": "amount"}, []int64{c, f.order}},
			{"False offset, limit, order", []any{all}, map[string]any{"offset": false, "limit": false, "order": false}, []int64{a, b, c, f.order}},
			{"None limit", []any{all, int64(0), nil}, nil, []int64{a, b, c, f.order}},
			{"JSON numbers", []any{all, float64(3), float64(1)}, nil, []int64{f.order}},
			{"domain", []any{[]any{L("amount", ">", 1.5), L("name", "!=", "SO1")}}, map[string]any{"order": "name desc"}, []int64{c, b}},
			{"archived hidden", []any{[]any{L("active", "=", true)}}, map[string]any{"count": true}, int64(4)},
		}
		for _, s := range searches {
			check("search "+s.what, call("search", s.args, s.kwargs), s.want)
		}
		_, err = env.call("test.order", "search", []any{all, "x"}, nil)
		wantErr(t, "search with a string offset", err, KindValue, "offset")
		_, err = env.call("test.order", "search", nil, map[string]any{"domain": all, "nope": int64(1)})
		wantErr(t, "search with an unknown keyword", err, KindType, "unexpected keyword argument 'nope'")
		_, err = env.call("test.order", "search", []any{all, int64(0), int64(0), "bogus"}, nil)
		if err == nil {
			t.Errorf("search ordered by an unknown field succeeded")
		}
		check("search_count", call("search_count", []any{[]any{L("name", "in", []any{"A", "B", "Z"})}}, nil), int64(2))
		check("search_count limit", call("search_count", []any{all}, map[string]any{"limit": int64(3)}), int64(3))

		check("name_get", call("name_get", []any{[]any{c, int64(424242), a}}, nil), []any{[]any{c, "C"}, []any{a, "A"}})
		check("name_search", call("name_search", []any{"s"}, nil), []any{[]any{f.order, "SO1"}})
		check("name_search operator =", call("name_search", []any{"A"}, map[string]any{"operator": "="}), []any{[]any{a, "A"}})
		check("name_search args, limit", call("name_search", []any{""}, map[string]any{"args": []any{L("amount", ">=", 2.0)}, "limit": int64(2)}),
			[]any{[]any{b, "B"}, []any{c, "C"}})
		nc := call("name_create", []any{"D"}, nil).([]any)
		if len(nc) != 2 || nc[1] != "D" {
			t.Errorf("name_create = %#v", nc)
		}
		check("exists", call("exists", []any{[]any{int64(424242), b, a}}, nil), []int64{b, a})

		// copy: NoCopy fields (ref, watcher_ids) are left to their
		// defaults, many2many links are copied, default wins.
		if err := env.Write(r.Model("test.order"), []int64{f.order}, map[string]any{"priority_label": "urgent", "data": "aGk=",
			"watcher_ids": []any{[]any{int64(4), f.red}}, "token": "s"}); err != nil {
			t.Fatal(err)
		}
		cp := call("copy", []any{f.order}, map[string]any{"default": map[string]any{"name": "SO1 (copy)"}}).(int64)
		got := readOne(t, env, "test.order", cp, "name", "ref", "category_id", "amount", "label_ids", "watcher_ids", "line_ids", "priority_label", "data", "state")
		want := map[string]any{"id": cp, "name": "SO1 (copy)", "ref": false, "category_id": []any{f.tools, "Tools"}, "amount": 10.5,
			"label_ids": []int64{f.red, f.blue}, "watcher_ids": []int64{}, "line_ids": []int64{}, "priority_label": "normal", "data": "aGk=", "state": "draft"}
		check("copy", got, want)
		var token string
		env.DB().Raw(`SELECT COALESCE("token", '') FROM "test_order" WHERE "id" = ?`, cp).Scan(&token)
		if token == "s" {
			t.Errorf("copy carried a secret field over")
		}
		if _, err := env.call("test.order", "copy", []any{[]any{f.order, b}}, nil); KindOf(err) != KindValue {
			t.Errorf("copy of two records: %v", err)
		}
		_, err = env.call("test.order", "copy", []any{int64(424242)}, nil)
		wantErr(t, "copy of a missing record", err, KindMissing, "test.order(424242,)")

		// default_get: declared defaults (a datetime in Odoo's format,
		// secrets never), default_<field> context keys first.
		dg := call("default_get", []any{[]any{"state", "date_order", "name", "token", "active", "nope"}}, nil).(*Dict)
		check("default_get", dictMap(dg), map[string]any{"state": "draft", "date_order": "2024-03-04 05:06:07", "active": true})
		ctxEnv := env.WithContext(map[string]any{"default_state": "done", "default_name": "from context"})
		got2, err := ctxEnv.call("test.order", "default_get", []any{[]any{"state", "name", "note"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		check("default_get with default_ keys", dictMap(got2.(*Dict)), map[string]any{"state": "done", "name": "from context"})

		// fields_get
		fg := call("fields_get", nil, nil).(*Dict)
		fields := map[string]map[string]any{}
		fg.Range(func(k string, v any) bool { fields[k] = dictMap(v.(*Dict)); return true })
		attrs := []struct {
			field, attr string
			want        any
		}{
			{"name", "string", "Order Reference"},
			{"name", "required", true},
			{"category_id", "string", "Category"},
			{"category_id", "relation", "test.category"},
			{"category_id", "type", "many2one"},
			{"line_ids", "relation_field", "order_id"},
			{"label_ids", "type", "many2many"},
			{"state", "selection", []any{[]any{"draft", "Draft"}, []any{"done", "Done"}}},
			{"code", "size", int64(8)},
			{"code", "help", "Short code"},
			{"category_label", "readonly", true},
			{"category_label", "store", true},
			{"category_label", "depends", []string{"name", "category_id.name"}},
			{"double", "store", false},
			{"double", "sortable", false},
			{"token", "exportable", false},
			{"private_note", "groups", GroupSystem},
			{"id", "readonly", true},
		}
		for _, a := range attrs {
			if fields[a.field] == nil {
				t.Errorf("fields_get lacks %s", a.field)
				continue
			}
			check("fields_get "+a.field+"."+a.attr, fields[a.field][a.attr], a.want)
		}
		if _, ok := fields["order_state"]; ok {
			t.Errorf("fields_get of test.order lists a field of test.order.line")
		}
		fg = call("fields_get", []any{[]any{"name", "state"}}, map[string]any{"attributes": []any{"type", "string"}}).(*Dict)
		check("fields_get(allfields, attributes)", fg.Keys(), []string{"name", "state"})
		v, _ := fg.Get("state")
		check("fields_get state attributes", dictMap(v.(*Dict)), map[string]any{"type": "selection", "string": "State"})
		fg = call("fields_get", nil, map[string]any{"attributes": []any{}}).(*Dict)
		v, _ = fg.Get("name")
		check("fields_get attributes=[] keys", v.(*Dict).Len(), 0)

		// search_read through dotted paths, ordered.
		rows, err := env.call("test.order.line", "search_read", []any{[]any{L("order_id.category_id.name", "=", "Tools")}},
			map[string]any{"fields": []any{"name", "order_id"}, "order": "name desc"})
		if err != nil {
			t.Fatal(err)
		}
		var names []any
		for _, row := range rows.([]*Dict) {
			n, _ := row.Get("name")
			names = append(names, n)
			if o, _ := row.Get("order_id"); !reflect.DeepEqual(o, []any{f.order, "SO1"}) {
				t.Errorf("search_read many2one = %#v", o)
			}
		}
		check("search_read dotted, ordered", names, []any{"nut", "bolt"})
		rows, _ = env.call("test.order", "search_read", []any{[]any{L("label_ids.name", "=", "blue")}, []any{"name"}}, map[string]any{"order": "id"})
		check("search_read through a many2many", len(rows.([]*Dict)), 2) // SO1 and its copy

		// web_search_read: length counts beyond the page.
		for _, c := range []struct {
			kwargs map[string]any
			length int64
			page   int
		}{
			{map[string]any{"limit": int64(2)}, 6, 2},
			{map[string]any{"limit": int64(2), "offset": int64(5)}, 6, 1},
			{map[string]any{"limit": int64(80)}, 6, 6},
			{map[string]any{}, 6, 6},
		} {
			d := call("web_search_read", []any{all, []any{"name"}}, c.kwargs).(*Dict)
			l, _ := d.Get("length")
			recs, _ := d.Get("records")
			if l != c.length || len(recs.([]*Dict)) != c.page {
				t.Errorf("web_search_read %v: length %v, %d records; want %d, %d", c.kwargs, l, len(recs.([]*Dict)), c.length, c.page)
			}
		}

		// archiving
		call("action_archive", []any{[]any{a, b}}, nil)
		check("search after archiving", call("search_count", []any{all}, nil), int64(4))
		check("archived with active_test off", func() any {
			got, _ := env.WithContext(map[string]any{"active_test": false}).call("test.order", "search_count", []any{all}, nil)
			return got
		}(), int64(6))
		call("toggle_active", []any{[]any{a}}, nil)
		check("toggle_active", readOne(t, env, "test.order", a, "active")["active"], true)
		if _, err := env.call("test.category", "action_archive", []any{[]any{f.tools}}, nil); KindOf(err) != KindValue {
			t.Errorf("archiving a model without active: %v", err)
		}
	})
}

// TestEngineWebSearchReadLength: Odoo 16's web_search_read answers length
// 0 for an empty page and counts (search_count(domain, limit=count_limit))
// only when the page is full and count_limit is not already reached by
// offset + records; otherwise the length is offset + records.
func TestEngineWebSearchReadLength(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		for i := range 6 {
			env.mustCreate(t, "test.order", map[string]any{"name": "o" + itoa(int64(i))})
		}
		cases := []struct {
			kwargs map[string]any
			length int64
			page   int
		}{
			{map[string]any{"limit": int64(2)}, 6, 2},
			{map[string]any{"limit": int64(2), "count_limit": int64(3)}, 3, 2},
			{map[string]any{"limit": int64(4), "offset": int64(4)}, 6, 2},
			{map[string]any{"limit": int64(2), "offset": int64(5), "count_limit": int64(3)}, 6, 1},
			{map[string]any{"limit": int64(2), "offset": int64(2), "count_limit": int64(3)}, 4, 2},
			{map[string]any{"limit": int64(2), "offset": int64(10)}, 0, 0},
		}
		var diverge []string
		for _, c := range cases {
			got, err := env.call("test.order", "web_search_read", []any{[]any{}, []any{"name"}}, c.kwargs)
			if err != nil {
				t.Fatal(err)
			}
			l, _ := got.(*Dict).Get("length")
			recs, _ := got.(*Dict).Get("records")
			if len(recs.([]*Dict)) != c.page {
				t.Errorf("web_search_read %v: %d records, want %d", c.kwargs, len(recs.([]*Dict)), c.page)
			}
			if l != c.length {
				diverge = append(diverge, fmt.Sprintf("%v: length %v, Odoo %d", c.kwargs, l, c.length))
			}
		}
		if len(diverge) > 0 {
			t.Errorf("web_search_read length differs from Odoo 16's: %s", strings.Join(diverge, "; "))
		}
	})
}
