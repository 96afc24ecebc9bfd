package models

// Parity with Odoo 16 where a client sees the difference (issue 9, item
// 13): display_name everywhere, __last_update, unlink of deleted ids,
// read's load, fields_get's default_export_compatible, read_group's
// aggregates of NULLs and normalised __domain, field labels, and Python
// reprs in error messages.

import (
	"reflect"
	"strings"
	"testing"
)

// callDicts runs a method answering a list of dicts (read, search_read)
// and returns them as maps.
func callDicts(t *testing.T, env *Env, model, method string, args []any, kwargs map[string]any) []map[string]any {
	t.Helper()
	got, err := env.call(model, method, args, kwargs)
	if err != nil {
		t.Fatalf("%s.%s %v %v: %v", model, method, args, kwargs, err)
	}
	var dicts []*Dict
	switch x := got.(type) {
	case []*Dict:
		dicts = x
	case *Dict: // web_search_read
		dicts = dictMap(x)["records"].([]*Dict)
	default:
		t.Fatalf("%s.%s answered %T", model, method, got)
	}
	out := make([]map[string]any, len(dicts))
	for i, d := range dicts {
		out[i] = dictMap(d)
	}
	return out
}

// TestEngineDisplayName: display_name is the record's name (name_get's
// value) in every read path, also when the name column is not among the
// fields asked for.
func TestEngineDisplayName(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		param := env.mustCreate(t, "ir.config_parameter", map[string]any{"key": "parity.key", "value": "v"})
		tests := []struct {
			name, model, method string
			args                []any
			kwargs              map[string]any
			want                string
		}{
			{"read alone", "test.category", "read", []any{[]any{f.tools}, []any{"display_name"}}, nil, "Tools"},
			{"read with another column", "test.category", "read", []any{[]any{f.tools}, []any{"sequence", "display_name"}}, nil, "Tools"},
			{"read all fields", "test.category", "read", []any{[]any{f.tools}}, nil, "Tools"},
			{"read a rec name that is not name", "ir.config_parameter", "read", []any{[]any{param}, []any{"display_name"}}, nil, "parity.key"},
			{"read with load=''", "test.order", "read", []any{[]any{f.order}, []any{"display_name"}}, map[string]any{"load": ""}, "SO1"},
			{"search_read", "test.category", "search_read", []any{[]any{L("id", "=", f.tools)}, []any{"display_name"}}, nil, "Tools"},
			{"web_search_read", "test.label", "web_search_read", []any{[]any{L("id", "=", f.red)}, []any{"display_name"}}, nil, "red"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := callDicts(t, env, tc.model, tc.method, tc.args, tc.kwargs)
				if len(got) != 1 || got[0]["display_name"] != tc.want {
					t.Errorf("got %v, want display_name %q", got, tc.want)
				}
			})
		}
	})
}

// TestEngineLastUpdate: every model has Odoo's __last_update, a computed
// datetime (write_date, else create_date) in fields_get and read; a
// context __last_update older than the record refuses write and unlink,
// as Odoo's _check_concurrency does.
func TestEngineLastUpdate(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		for _, model := range []string{"test.order", "test.category", "res.users", "ir.model"} {
			desc, err := env.call(model, "fields_get", []any{[]any{"__last_update"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			lu, ok := dictMap(desc.(*Dict))["__last_update"].(*Dict)
			if !ok {
				t.Fatalf("%s: fields_get has no __last_update", model)
			}
			got := dictMap(lu)
			want := map[string]any{"type": "datetime", "string": "Last Modified on", "store": false, "readonly": true,
				"searchable": false, "sortable": false, "depends": []string{"create_date", "write_date"}}
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s fields_get __last_update %s = %#v, want %#v", model, k, got[k], v)
				}
			}
		}
		mo := r.Model("test.order")
		stamp := func(s any) {
			t.Helper()
			if _, err := env.SetColumns(mo, []int64{f.order}, map[string]any{"create_date": "2024-01-02 03:04:05", "write_date": s}); err != nil {
				t.Fatal(err)
			}
		}
		read := func(kwargs map[string]any, fields ...any) map[string]any {
			t.Helper()
			return callDicts(t, env, "test.order", "read", []any{[]any{f.order}, fields}, kwargs)[0]
		}
		stamp("2024-05-06 07:08:09")
		if got := read(nil, "__last_update", "write_date"); got["__last_update"] != "2024-05-06 07:08:09" || got["__last_update"] != got["write_date"] {
			t.Errorf("__last_update = %v, want write_date", got)
		}
		if got := read(nil); got["__last_update"] != "2024-05-06 07:08:09" {
			t.Errorf("read of all fields: __last_update = %v", got["__last_update"])
		}
		if got := callDicts(t, env, "test.order", "search_read", []any{[]any{L("id", "=", f.order)}, []any{"__last_update"}}, nil); got[0]["__last_update"] != "2024-05-06 07:08:09" {
			t.Errorf("search_read: __last_update = %v", got)
		}
		stamp(false)
		if got := read(nil, "__last_update"); got["__last_update"] != "2024-01-02 03:04:05" {
			t.Errorf("without write_date: __last_update = %v, want create_date", got["__last_update"])
		}
		stamp("2024-05-06 07:08:09")
		key := "test.order," + itoa(f.order)
		for _, tc := range []struct {
			name, seen string
			refused    bool
		}{
			{"seen before the last write", "2024-05-06 07:08:08", true},
			{"seen at the last write", "2024-05-06 07:08:09", false},
			{"seen after", "2024-05-06 07:08:10", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cenv := env.WithContext(map[string]any{"__last_update": map[string]any{key: tc.seen}})
				savepoint(t, env, func() {
					_, err := cenv.call("test.order", "write", []any{[]any{f.order}, map[string]any{"note": "x"}}, nil)
					checkConcurrencyErr(t, "write", err, tc.refused, "A document was modified since you last viewed it (Test Order:"+itoa(f.order)+")")
				})
				savepoint(t, env, func() {
					_, err := cenv.call("test.order", "unlink", []any{[]any{f.order}}, nil)
					checkConcurrencyErr(t, "unlink", err, tc.refused, "A document was modified since you last viewed it")
				})
			})
		}
		other := env.WithContext(map[string]any{"__last_update": map[string]any{"test.order,999999": "2000-01-01 00:00:00"}})
		if _, err := other.call("test.order", "write", []any{[]any{f.order}, map[string]any{"note": "y"}}, nil); err != nil {
			t.Errorf("a stamp of another record: %v", err)
		}
	})
}

func checkConcurrencyErr(t *testing.T, what string, err error, refused bool, msg string) {
	t.Helper()
	if refused {
		wantErr(t, what, err, KindValidation, msg)
	} else if err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// TestEngineUnlinkDeleted: unlink ignores ids already deleted and answers
// True, as Odoo 16 does; access rights and record rules still apply to the
// records that exist.
func TestEngineUnlinkDeleted(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		tester := makeUser(t, env, "parity", groupTestUser)
		other := makeUser(t, env, "other", groupTestUser)
		asTester := env.WithUser(tester)
		mine := env.mustCreate(t, "test.note", map[string]any{"name": "mine", "user_id": tester})
		theirs := env.mustCreate(t, "test.note", map[string]any{"name": "theirs", "user_id": other})
		gone := env.mustCreate(t, "test.label", map[string]any{"name": "gone"})
		if _, err := env.call("test.label", "unlink", []any{[]any{gone}}, nil); err != nil {
			t.Fatal(err)
		}
		const never = int64(987654)
		tests := []struct {
			name  string
			as    *Env
			model string
			arg   any     // unlink's ids argument
			ids   []int64 // the ids it names
			kind  Kind    // KindInternal: no error
			left  []int64
		}{
			{"already deleted", env, "test.label", []any{gone}, []int64{gone}, KindInternal, nil},
			{"never existed", env, "test.label", []any{never}, []int64{never}, KindInternal, nil},
			{"deleted and existing", env, "test.label", []any{gone, f.blue, gone}, []int64{gone, f.blue}, KindInternal, nil},
			{"bare int", env, "test.label", gone, []int64{gone}, KindInternal, nil},
			{"none", asTester, "test.category", []any{}, nil, KindInternal, nil},
			{"rights still apply", asTester, "test.category", []any{never}, []int64{never}, KindAccess, nil},
			{"rules: own and deleted", asTester, "test.note", []any{mine, never}, []int64{mine, never}, KindInternal, nil},
			{"rules: another's and deleted", asTester, "test.note", []any{theirs, never}, []int64{theirs, never}, KindAccess, []int64{theirs}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				savepoint(t, env, func() {
					got, err := tc.as.call(tc.model, "unlink", []any{tc.arg}, nil)
					if tc.kind != KindInternal {
						wantErr(t, "unlink", err, tc.kind)
					} else if err != nil || got != true {
						t.Fatalf("unlink %v = %v, %v; want True", tc.arg, got, err)
					}
					left, err := env.existing(r.Model(tc.model), tc.ids)
					if err != nil {
						t.Fatal(err)
					}
					if len(left) != len(tc.left) || len(left) > 0 && !reflect.DeepEqual(left, tc.left) {
						t.Errorf("left after unlink: %v, want %v", left, tc.left)
					}
				})
			})
		}
	})
}

// TestEngineReadLoad: read's many2one values are [id, name] only for
// load='_classic_read' (the default); any other load, ” and None and
// False included, gives the bare id. web_search_read always names them.
func TestEngineReadLoad(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env)
		bare := env.mustCreate(t, "test.order", map[string]any{"name": "SO-bare"})
		named := []any{f.tools, "Tools"}
		tests := []struct {
			name   string
			kwargs map[string]any
			want   any
		}{
			{"default", nil, named},
			{"_classic_read", map[string]any{"load": "_classic_read"}, named},
			{"_classic_write", map[string]any{"load": "_classic_write"}, f.tools},
			{"empty string", map[string]any{"load": ""}, f.tools},
			{"None", map[string]any{"load": nil}, f.tools},
			{"False", map[string]any{"load": false}, f.tools},
			{"anything else", map[string]any{"load": "x"}, f.tools},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for _, method := range []string{"read", "search_read"} {
					args := []any{[]any{f.order, bare}, []any{"category_id"}}
					if method == "search_read" {
						args = []any{[]any{L("id", "in", []any{f.order, bare})}, []any{"category_id"}, int64(0), false, "id"}
					}
					got := callDicts(t, env, "test.order", method, args, tc.kwargs)
					if len(got) != 2 || !reflect.DeepEqual(got[0]["category_id"], tc.want) || got[1]["category_id"] != false {
						t.Errorf("%s %v: category_id %v, want %v then false", method, tc.kwargs, got, tc.want)
					}
				}
			})
		}
		got := callDicts(t, env, "test.order", "web_search_read", []any{[]any{L("id", "=", f.order)}, []any{"category_id"}}, nil)
		if !reflect.DeepEqual(got[0]["category_id"], named) {
			t.Errorf("web_search_read category_id = %v, want %v", got[0]["category_id"], named)
		}
	})
}

// TestEngineDefaultExportCompatible: fields_get describes every field
// with default_export_compatible, Odoo's attribute default False.
func TestEngineDefaultExportCompatible(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		for _, model := range []string{"test.order", "test.order.line", "res.users"} {
			desc, err := env.call(model, "fields_get", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			desc.(*Dict).Range(func(name string, v any) bool {
				n++
				if got, ok := dictMap(v.(*Dict))["default_export_compatible"]; !ok || got != false {
					t.Errorf("%s.%s default_export_compatible = %v (present %v), want false", model, name, got, ok)
				}
				return true
			})
			if n == 0 {
				t.Errorf("%s: fields_get is empty", model)
			}
			only, err := env.call(model, "fields_get", nil, map[string]any{"attributes": []any{"default_export_compatible"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := dictMap(dictMap(only.(*Dict))["create_date"].(*Dict)); !reflect.DeepEqual(got, map[string]any{"default_export_compatible": false}) {
				t.Errorf("%s fields_get(attributes=[default_export_compatible]) create_date = %v", model, got)
			}
		}
	})
}

// TestEngineReadGroupNulls: an aggregate over a group whose values are all
// NULL is False, as Odoo's _read_group_prepare_data turns None into False;
// counts stay numbers and NULLs among values are skipped; minima and
// maxima of dates and text are in read format.
func TestEngineReadGroupNulls(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		for _, vals := range []map[string]any{
			{"name": "N1", "state": "done", "date_order": false},
			{"name": "N2", "state": "done", "date_order": false},
			{"name": "V1", "state": "draft", "amount": 2.5, "qty": int64(3), "date_order": "2024-05-06 07:08:09", "day": "2024-05-06"},
			{"name": "V2", "state": "draft", "date_order": false},
		} {
			env.mustCreate(t, "test.order", vals)
		}
		got, err := env.call("test.order", "read_group", []any{[]any{L("name", "in", []any{"N1", "N2", "V1", "V2"})},
			[]any{"amount", "qty", "max_amount:max(amount)", "avg_qty:avg(qty)", "n:count(qty)", "d:count_distinct(amount)",
				"last:max(date_order)", "first_day:min(day)", "top:max(name)"}, []any{"state"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]map[string]any{
			"done": {"amount": false, "qty": false, "max_amount": false, "avg_qty": false, "n": int64(0), "d": int64(0), "state_count": int64(2),
				"last": false, "first_day": false, "top": "N2"},
			"draft": {"amount": 2.5, "qty": int64(3), "max_amount": 2.5, "avg_qty": 3.0, "n": int64(1), "d": int64(1), "state_count": int64(2),
				"last": "2024-05-06 07:08:09", "first_day": "2024-05-06", "top": "V2"},
		}
		groups := got.([]*Dict)
		if len(groups) != 2 {
			t.Fatalf("%d groups, want 2", len(groups))
		}
		for _, gd := range groups {
			g := dictMap(gd)
			w := want[g["state"].(string)]
			for k, v := range w {
				if !reflect.DeepEqual(g[k], v) {
					t.Errorf("group %v: %s = %#v, want %#v", g["state"], k, g[k], v)
				}
			}
		}
	})
}

// TestEngineReadGroupDomain: each group's __domain is Odoo's
// expression.AND of the group's conditions and the request's domain: the
// implicit '&' spelled out, the domain normalised, [] left out.
func TestEngineReadGroupDomain(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		f := makeEngineFixture(t, env) // SO1: Tools, draft, 2024-03-04
		a, b := L("name", "=", "SO1"), L("qty", ">", int64(0))
		month := []any{"&", []any{"date_order", ">=", "2024-03-01 00:00:00"}, []any{"date_order", "<", "2024-04-01 00:00:00"}}
		state := []any{"state", "=", "draft"}
		cat := []any{"category_id", "=", f.tools}
		tests := []struct {
			name    string
			domain  []any
			groupby []any
			lazy    bool
			want    []any
		}{
			{"empty domain", []any{}, []any{"state"}, true, []any{state}},
			{"one leaf", []any{a}, []any{"state"}, true, []any{"&", state, a}},
			{"implicit and", []any{a, b}, []any{"state"}, true, []any{"&", state, "&", a, b}},
			{"explicit or", []any{"|", a, b}, []any{"state"}, true, []any{"&", state, "|", a, b}},
			{"many2one", []any{a}, []any{"category_id"}, true, []any{"&", cat, a}},
			{"date interval", []any{}, []any{"date_order:month"}, true, month},
			{"date interval and a leaf", []any{a}, []any{"date_order:month"}, true, append(append([]any{"&"}, month...), a)},
			{"two groupbys", []any{a}, []any{"state", "category_id"}, false, []any{"&", "&", state, cat, a}},
			{"lazy keeps the first", []any{a, b}, []any{"state", "category_id"}, true, []any{"&", state, "&", a, b}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := env.call("test.order", "read_group", []any{tc.domain, []any{"amount"}, tc.groupby}, map[string]any{"lazy": tc.lazy})
				if err != nil {
					t.Fatal(err)
				}
				groups := got.([]*Dict)
				if len(groups) != 1 {
					t.Fatalf("%d groups, want 1", len(groups))
				}
				if dom := dictMap(groups[0])["__domain"]; !reflect.DeepEqual(dom, tc.want) {
					t.Errorf("__domain = %#v\nwant       %#v", dom, tc.want)
				}
			})
		}
	})
}

// TestLabelFromName is Odoo's default label: the name without a trailing
// _id/_ids, underscores as spaces, then Python's str.title().
func TestLabelFromName(t *testing.T) {
	for name, want := range map[string]string{
		"clean_session":       "Clean Session",
		"connection_status":   "Connection Status",
		"broker_id":           "Broker",
		"subscription_ids":    "Subscription",
		"url_scheme":          "Url Scheme",
		"x2y_value":           "X2Y Value",
		"ids":                 "Ids",
		"_id":                 "",
		"retain_as_published": "Retain As Published",
		"__last_update":       "  Last Update",
	} {
		if got := labelFromName(name); got != want {
			t.Errorf("labelFromName(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestEngineLabels: fields_get's string is the declared label, else a
// related field's target label, else the label derived from the name.
func TestEngineLabels(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		for _, tc := range []struct{ model, field, want string }{
			{"test.order", "name", "Order Reference"},
			{"test.order", "date_order", "Date Order"},
			{"test.order", "priority_label", "Priority Label"},
			{"test.order", "label_ids", "Label"},
			{"test.order", "display_name", "Display Name"},
			{"test.order.line", "order_state", "State"},
			{"test.order.line", "category_name", "Name"},
			{"test.order.line", "order_label", "Category Label"},
		} {
			desc, err := env.call(tc.model, "fields_get", []any{[]any{tc.field}}, map[string]any{"attributes": []any{"string"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := dictMap(dictMap(desc.(*Dict))[tc.field].(*Dict))["string"]; got != tc.want {
				t.Errorf("%s.%s string = %q, want %q", tc.model, tc.field, got, tc.want)
			}
		}
	})
}

// TestEngineErrorReprs: messages quote client values as Python's repr
// does: a domain leaf as the tuple Odoo's normalize_domain makes of it,
// strings in Python's quotes, True/False/None.
func TestEngineErrorReprs(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		env := r.testEnv(t)
		search := func(domain []any) error {
			_, err := env.call("test.order", "search", []any{domain}, nil)
			return err
		}
		write := func(vals map[string]any) error {
			var err error
			savepoint(t, env, func() { _, err = env.call("test.order", "create", []any{vals}, nil) })
			return err
		}
		tests := []struct {
			name string
			err  error
			want string
		}{
			{"unknown operator", search([]any{L("name", "~", "x")}), "Invalid leaf ('name', '~', 'x')"},
			{"short leaf", search([]any{[]any{"name", "="}}), "Invalid leaf ('name', '=')"},
			{"one-item leaf", search([]any{[]any{"name"}}), "Invalid leaf ('name',)"},
			{"stray string", search([]any{"name"}), "Invalid leaf name"},
			{"unknown field", search([]any{L("nope", "=", true)}), "Invalid field test.order.nope in leaf ('nope', '=', True)"},
			{"unknown field, normalised operator", search([]any{L("nope", "<>", nil)}), "Invalid field test.order.nope in leaf ('nope', '!=', None)"},
			{"unknown field after a hop", search([]any{L("category_id.nope", "in", []any{int64(1), "a"})}), "Invalid field test.category.nope in leaf ('nope', 'in', [1, 'a'])"},
			{"bad value", search([]any{L("qty", "=", "abc")}), "Invalid value 'abc' in leaf ('qty', '=', 'abc')"},
			{"syntax", search([]any{"|", L("name", "=", "a")}), "This domain is syntactically not correct: ['|', ['name', '=', 'a']]"},
			{"datetime", write(map[string]any{"name": "x", "date_order": "yesterday"}), "'yesterday' is not a datetime"},
			{"date", write(map[string]any{"name": "x", "day": "it's"}), `"it's" is not a date`},
			{"selection", write(map[string]any{"name": "x", "state": "nope"}), "Wrong value for test.order.state: 'nope'"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
					t.Errorf("error %v, want it to contain %s", tc.err, tc.want)
				}
			})
		}
	})
}
