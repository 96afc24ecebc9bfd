package models

import (
	"reflect"
	"testing"
)

func TestBind(t *testing.T) {
	search := genericMethods["search"]
	cases := []struct {
		name   string
		args   []any
		kwargs map[string]any
		want   Args
		kind   Kind // 0: no error
	}{
		{"domain only", []any{[]any{}}, nil,
			Args{"domain": []any{}, "offset": int64(0), "limit": nil, "order": nil, "count": false}, 0},
		{"all positional (erppeek)", []any{[]any{}, int64(5), int64(10), "name", false}, nil,
			Args{"domain": []any{}, "offset": int64(5), "limit": int64(10), "order": "name", "count": false}, 0},
		{"keywords (execute_kw)", []any{[]any{}}, map[string]any{"limit": int64(3), "order": "id desc"},
			Args{"domain": []any{}, "offset": int64(0), "limit": int64(3), "order": "id desc", "count": false}, 0},
		{"domain as keyword", nil, map[string]any{"domain": []any{}},
			Args{"domain": []any{}, "offset": int64(0), "limit": nil, "order": nil, "count": false}, 0},
		{"missing domain", nil, nil, nil, KindType},
		{"too many positionals", []any{1, 2, 3, 4, 5, 6}, nil, nil, KindType},
		{"unknown keyword", []any{[]any{}}, map[string]any{"limt": int64(1)}, nil, KindType},
		{"given twice", []any{[]any{}, int64(1)}, map[string]any{"offset": int64(2)}, nil, KindType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := bind("search", search, c.args, c.kwargs)
			if c.kind != 0 {
				if KindOf(err) != c.kind {
					t.Fatalf("err = %v (kind %v), want kind %v", err, KindOf(err), c.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("bind = %#v\nwant %#v", got, c.want)
			}
		})
	}
	// A method with **kwargs takes unknown keywords.
	rest := &Method{Params: []Param{{Name: "a"}}, Rest: true}
	if got, err := bind("m", rest, []any{1}, map[string]any{"extra": 2}); err != nil || got["extra"] != 2 {
		t.Errorf("rest kwargs: %v %v", got, err)
	}
}

func TestIdsArg(t *testing.T) {
	cases := []struct {
		in   any
		want []int64
		ok   bool
	}{
		{[]any{int64(1), int64(2)}, []int64{1, 2}, true},
		{int64(7), []int64{7}, true},
		{float64(7), []int64{7}, true}, // JSON numbers
		{false, nil, true},
		{nil, nil, true},
		{[]any{}, []int64{}, true},
		{"7", nil, false},
		{[]any{int64(1), "x"}, nil, false},
		{float64(1.5), nil, false},
	}
	for _, c := range cases {
		got, err := idsArg(c.in)
		if (err == nil) != c.ok || (c.ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("idsArg(%#v) = %v, %v", c.in, got, err)
		}
	}
}

func TestRegistryCheckRejectsBadDeclarations(t *testing.T) {
	cases := map[string]*Model{
		"unknown comodel":  {Name: "x.a", Fields: []*Field{{Name: "b_id", Type: Many2one, Relation: "no.such"}}},
		"bad inverse":      {Name: "x.b", Fields: []*Field{{Name: "c_ids", Type: One2many, Relation: "res.users", InverseName: "nope"}}},
		"bad related":      {Name: "x.c", Fields: []*Field{{Name: "t", Type: Char, Related: "nope.x"}}},
		"bad order":        {Name: "x.d", Order: "nope desc"},
		"unknown group":    {Name: "x.e", Access: map[string]string{"no.group": "r"}},
		"bad access ops":   {Name: "x.f", Access: map[string]string{GroupUser: "rx"}},
		"empty selection":  {Name: "x.g", Fields: []*Field{{Name: "s", Type: Selection}}},
		"private method":   {Name: "x.h", Methods: map[string]*Method{"_x": {Fn: methodSearch}}},
		"bad field name":   {Name: "x.i", Fields: []*Field{{Name: "Bad-Name", Type: Char}}},
		"field twice":      {Name: "x.j", Fields: []*Field{{Name: "a", Type: Char}, {Name: "a", Type: Char}}},
		"model name twice": {Name: "res.users"},
	}
	for name, m := range cases {
		if _, err := New(Options{}, testAddon{[]*Model{m}}); err == nil {
			t.Errorf("%s: registry accepted %s", name, m.Name)
		}
	}
	if _, err := New(Options{}, testAddon{}); err != nil {
		t.Fatalf("the base declarations: %v", err)
	}
}

// fakeAddon declares what its manifest says.
type fakeAddon Manifest

func (a fakeAddon) Manifest() Manifest { return Manifest(a) }

// TestRegistryCheckRejectsBadAddons: what addons declare is checked as a
// whole at start, so a misspelt name stops the server, not a client.
func TestRegistryCheckRejectsBadAddons(t *testing.T) {
	noop := &Method{Fn: methodSearch}
	model := func() *Model {
		return &Model{Name: "x.a", Fields: []*Field{{Name: "name", Type: Char}}, Methods: map[string]*Method{"act": noop}}
	}
	cases := map[string][]Addon{
		"no name":             {fakeAddon{}},
		"twice":               {fakeAddon{Name: "x"}, fakeAddon{Name: "x"}},
		"missing dependency":  {fakeAddon{Name: "x", Depends: []string{"y"}}},
		"dependency after":    {fakeAddon{Name: "x", Depends: []string{"y"}}, fakeAddon{Name: "y"}},
		"extends unknown":     {fakeAddon{Name: "x", Extends: []*Extension{{Model: "no.such"}}}},
		"method twice":        {fakeAddon{Name: "x", Models: []*Model{model()}, Extends: []*Extension{{Model: "x.a", Methods: map[string]*Method{"act": noop}}}}},
		"extension field bad": {fakeAddon{Name: "x", Models: []*Model{model()}, Extends: []*Extension{{Model: "x.a", Fields: []*Field{{Name: "name", Type: Char}}}}}},
		"method without fn":   {fakeAddon{Name: "x", Models: []*Model{{Name: "x.b", Methods: map[string]*Method{"act": {}}}}}},
		"unknown implied":     {fakeAddon{Name: "x", Groups: []Group{{Key: "x.g", Name: "G", Implies: []string{"no.group"}}}}},
		"group twice":         {fakeAddon{Name: "x", Groups: []Group{{Key: GroupUser, Name: "G"}}}},
		"index unknown field": {fakeAddon{Name: "x", Models: []*Model{{Name: "x.c", Indexes: []Index{{Fields: []string{"nope"}}}}}}},
		"channel twice": {fakeAddon{Name: "x", Models: []*Model{
			{Name: "x.d", Channels: []string{"live"}}, {Name: "x.e", Channels: []string{"live"}}}}},
	}
	for name, addons := range cases {
		if _, err := New(Options{}, addons...); err == nil {
			t.Errorf("%s: registry accepted it", name)
		}
	}
	// An extension's fields, methods and hooks are the model's own.
	var told []string
	ok := []Addon{
		fakeAddon{Name: "x", Models: []*Model{model()}},
		fakeAddon{Name: "y", Depends: []string{"x"}, Extends: []*Extension{{Model: "x.a",
			Fields:  []*Field{{Name: "extra", Type: Integer}},
			Methods: map[string]*Method{"more": noop},
			Indexes: []Index{{Fields: []string{"name", "extra"}, Unique: true}},
			Changed: func(*Env, []int64, []string, bool) { told = append(told, "y") },
		}}},
	}
	r, err := New(Options{}, ok...)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Model("x.a")
	if m.Field("extra") == nil || m.Methods["more"] == nil || m.Methods["act"] == nil || len(m.Indexes) != 1 {
		t.Errorf("extension not applied: %+v", m)
	}
	if last := m.Fields[len(m.Fields)-1].Name; last != LastUpdateField {
		t.Errorf("an extension's fields go before the magic ones; last field is %s", last)
	}
	m.Changed(nil, nil, nil, false)
	if len(told) != 1 {
		t.Errorf("extension hook not chained: %v", told)
	}
}
