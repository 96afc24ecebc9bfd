package models

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// domainTestModels declares the small models the domain and order tests
// run on: a parent with a hierarchy (parent_id), an active flag, a child
// one2many, a tag many2many, a restricted and a secret field; a child with
// one field of each plain type; a tag model with rules and restricted
// access. Fresh values each call: registration completes them in place.
func domainTestModels() []*Model {
	return []*Model{
		{
			Name:        "test.tag",
			Description: "Test Tag",
			Order:       "name desc, id",
			Fields: []*Field{
				{Name: "name", Type: Char},
				{Name: "color", Type: Integer},
				{Name: "active", Type: Boolean, Default: func(*Env) any { return true }},
			},
			Access: map[string]string{groupTestUser: "r", GroupSystem: "rwcu"},
			Rules:  func(*Env) []any { return []any{[]any{"color", "!=", int64(13)}} },
		},
		{
			Name:        "test.parent",
			Description: "Test Parent",
			Order:       "name, id",
			Fields: []*Field{
				{Name: "name", Type: Char},
				{Name: "active", Type: Boolean, Default: func(*Env) any { return true }},
				{Name: "parent_id", Type: Many2one, Relation: "test.parent"},
				{Name: "child_ids", Type: One2many, Relation: "test.child", InverseName: "parent_id"},
				{Name: "tag_ids", Type: Many2many, Relation: "test.tag"},
				{Name: "code", Type: Char, Groups: []string{GroupSystem}},
				{Name: "secret", Type: Char, Secret: true},
				{Name: "shout", Type: Char, NotStored: true},
			},
			Access: map[string]string{GroupUser: "r"},
		},
		{
			Name:        "test.child",
			Description: "Test Child",
			Order:       "stamp desc, id",
			Fields: []*Field{
				{Name: "name", Type: Char},
				{Name: "count", Type: Integer},
				{Name: "ratio", Type: Float},
				{Name: "flag", Type: Boolean},
				{Name: "stamp", Type: Datetime},
				{Name: "day", Type: Date},
				{Name: "state", Type: Selection, Selection: []Choice{{"new", "New"}, {"done", "Done"}}},
				{Name: "note", Type: Text},
				{Name: "parent_id", Type: Many2one, Relation: "test.parent"},
				{Name: "tag_id", Type: Many2one, Relation: "test.tag"},
				{Name: "parent_name", Type: Char, Related: "parent_id.name", NotStored: true},
				{Name: "group_id", Type: Many2one, Relation: "res.groups"},
			},
			Access: map[string]string{GroupUser: "r"},
		},
	}
}

// newDomainTestEnv builds a registry without a database on the test
// models and returns a superuser env on it.
func newDomainTestEnv(t testing.TB, d Dialect) *Env {
	t.Helper()
	r, err := New(Options{Dialect: d}, testAddon{domainTestModels()})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{reg: r, Context: map[string]any{}, su: true}
}

// userDomainEnv is an env of a plain user of groups, without a database:
// the group cache is preset so no query runs.
func userDomainEnv(su *Env, groups ...string) *Env {
	e := &Env{reg: su.reg, Context: map[string]any{}, UID: 7, groups: map[string]bool{}}
	for _, g := range groups {
		e.groups[g] = true
	}
	su.reg.impliedClosure(e.groups)
	return e
}

// L is a leaf, for readability of the tables.
func L(path, op string, v any) []any { return []any{path, op, v} }

func TestCompileDomain(t *testing.T) {
	const rel = `"test_parent_test_tag_rel"`
	tests := []struct {
		name   string
		model  string
		domain any
		sql    string
		args   []any
	}{
		{"nil", "test.child", nil, "1=1", nil},
		{"false", "test.child", false, "1=1", nil},
		{"empty", "test.child", []any{}, "1=1", nil},
		{"eq", "test.child", []any{L("name", "=", "a")}, `"t"."name" = ?`, []any{"a"}},
		{"implicit and", "test.child", []any{L("name", "=", "a"), L("count", ">", float64(1))},
			`("t"."name" = ? AND "t"."count" > ?)`, []any{"a", int64(1)}},
		{"implicit and flattens", "test.child", []any{L("count", "=", 1), L("count", "=", 2), L("count", "=", 3)},
			`("t"."count" = ? AND "t"."count" = ? AND "t"."count" = ?)`, []any{int64(1), int64(2), int64(3)}},
		{"or", "test.child", []any{"|", L("name", "=", "a"), L("name", "=", "b")},
			`("t"."name" = ? OR "t"."name" = ?)`, []any{"a", "b"}},
		{"or inside and", "test.child", []any{"|", L("name", "=", "a"), L("name", "=", "b"), L("count", "<", 3)},
			`(("t"."name" = ? OR "t"."name" = ?) AND "t"."count" < ?)`, []any{"a", "b", int64(3)}},
		{"true leaf", "test.child", []any{[]any{int64(1), "=", int64(1)}}, "1=1", nil},
		{"false leaf", "test.child", []any{[]any{float64(0), "=", float64(1)}}, "1=0", nil},
		{"not true leaf", "test.child", []any{"!", []any{true, "=", 1}}, "1=0", nil},

		// '!' is pushed into the operator, so NULLs follow Odoo, not SQL NOT.
		{"not eq matches null", "test.child", []any{"!", L("name", "=", "a")},
			`("t"."name" != ? OR "t"."name" IS NULL)`, []any{"a"}},
		{"not or", "test.child", []any{"!", "|", L("count", "<", 1), L("count", "in", []any{5})},
			`("t"."count" >= ? AND ("t"."count" NOT IN (?) OR "t"."count" IS NULL))`, []any{int64(1), int64(5)}},
		{"not not", "test.child", []any{"!", "!", L("name", "=", "a")}, `"t"."name" = ?`, []any{"a"}},
		{"not =like keeps NOT", "test.child", []any{"!", L("name", "=like", "a%")}, `NOT ("t"."name" LIKE ?)`, []any{"a%"}},

		{"= False", "test.child", []any{L("name", "=", false)}, `"t"."name" IS NULL`, nil},
		{"= None", "test.child", []any{L("count", "=", nil)}, `"t"."count" IS NULL`, nil},
		{"bool = False", "test.child", []any{L("flag", "=", false)}, `("t"."flag" IS NULL OR "t"."flag" = ?)`, []any{false}},
		{"!= False", "test.child", []any{L("name", "!=", false)}, `"t"."name" IS NOT NULL`, nil},
		{"bool != False", "test.child", []any{L("flag", "!=", false)}, `("t"."flag" IS NOT NULL AND "t"."flag" != ?)`, []any{false}},
		{"bool = True", "test.child", []any{L("flag", "=", true)}, `"t"."flag" = ?`, []any{true}},
		{"bool != True", "test.child", []any{L("flag", "!=", true)}, `("t"."flag" != ? OR "t"."flag" IS NULL)`, []any{true}},
		{"!= falsy value", "test.child", []any{L("name", "!=", "")}, `"t"."name" != ?`, []any{""}},
		{"<> is !=", "test.child", []any{L("count", "<>", int64(4))}, `("t"."count" != ? OR "t"."count" IS NULL)`, []any{int64(4)}},
		{"=? False", "test.child", []any{L("count", "=?", false)}, "1=1", nil},
		{"=? value", "test.child", []any{L("count", "=?", int64(2))}, `"t"."count" = ?`, []any{int64(2)}},
		{"=? list", "test.child", []any{L("count", "=?", []any{int64(2)})}, `"t"."count" IN (?)`, []any{int64(2)}},
		{"<=", "test.child", []any{L("ratio", "<=", 1.5)}, `"t"."ratio" <= ?`, []any{1.5}},
		{"int > fraction", "test.child", []any{L("count", ">", 1.5)}, `"t"."count" > ?`, []any{int64(1)}},
		{"int >= fraction", "test.child", []any{L("count", ">=", -1.5)}, `"t"."count" > ?`, []any{int64(-2)}},
		{"int < fraction", "test.child", []any{L("count", "<", 1.5)}, `"t"."count" <= ?`, []any{int64(1)}},
		{"int = fraction", "test.child", []any{L("count", "=", 1.5)}, "1=0", nil},
		{"int != fraction", "test.child", []any{L("count", "!=", 1.5)}, "1=1", nil},
		{"int in fractions", "test.child", []any{L("count", "in", []any{1.5, float64(2)})}, `"t"."count" IN (?)`, []any{int64(2)}},
		{"char vs number", "test.child", []any{L("name", "=", float64(1883))}, `"t"."name" = ?`, []any{"1883"}},
		{"selection unchecked", "test.child", []any{L("state", "=", "bogus")}, `"t"."state" = ?`, []any{"bogus"}},

		{"like", "test.child", []any{L("name", "like", "ab")}, `"t"."name" LIKE ?`, []any{"%ab%"}},
		{"ilike", "test.child", []any{L("name", "ilike", "Ab")}, `lower("t"."name") LIKE lower(?)`, []any{"%Ab%"}},
		{"like empty", "test.child", []any{L("name", "like", "")}, `("t"."name" LIKE ? OR "t"."name" IS NULL)`, []any{"%%"}},
		{"ilike False", "test.child", []any{L("name", "ilike", false)}, `(lower("t"."name") LIKE lower(?) OR "t"."name" IS NULL)`, []any{"%%"}},
		{"not like", "test.child", []any{L("name", "not like", "ab")}, `("t"."name" NOT LIKE ? OR "t"."name" IS NULL)`, []any{"%ab%"}},
		{"not ilike", "test.child", []any{L("note", "not ilike", "ab")}, `(lower("t"."note") NOT LIKE lower(?) OR "t"."note" IS NULL)`, []any{"%ab%"}},
		{"=like", "test.child", []any{L("name", "=like", "a_%")}, `"t"."name" LIKE ?`, []any{"a_%"}},
		{"=ilike", "test.child", []any{L("name", "=ilike", "A%")}, `lower("t"."name") LIKE lower(?)`, []any{"A%"}},
		{"like on integer", "test.child", []any{L("count", "like", float64(5))}, `CAST("t"."count" AS TEXT) LIKE ?`, []any{"%5%"}},

		{"in", "test.child", []any{L("count", "in", []any{float64(1), int64(2)})}, `"t"."count" IN (?, ?)`, []any{int64(1), int64(2)}},
		{"in empty", "test.child", []any{L("count", "in", []any{})}, "1=0", nil},
		{"not in empty", "test.child", []any{L("count", "not in", []any{})}, "1=1", nil},
		{"in with False", "test.child", []any{L("count", "in", []any{int64(1), false})}, `("t"."count" IN (?) OR "t"."count" IS NULL)`, []any{int64(1)}},
		{"in only False", "test.child", []any{L("name", "in", []any{nil})}, `"t"."name" IS NULL`, nil},
		{"not in", "test.child", []any{L("count", "not in", []any{int64(1)})}, `("t"."count" NOT IN (?) OR "t"."count" IS NULL)`, []any{int64(1)}},
		{"not in with False", "test.child", []any{L("count", "not in", []any{int64(1), false})}, `("t"."count" NOT IN (?) AND "t"."count" IS NOT NULL)`, []any{int64(1)}},
		{"not in only False", "test.child", []any{L("count", "not in", []any{false})}, `"t"."count" IS NOT NULL`, nil},
		{"in scalar", "test.child", []any{L("id", "in", int64(3))}, `"t"."id" IN (?)`, []any{int64(3)}},
		{"in typed slice", "test.child", []any{L("id", "in", []int64{3, 4})}, `"t"."id" IN (?, ?)`, []any{int64(3), int64(4)}},
		{"bool in", "test.child", []any{L("flag", "in", []any{true, false})}, `("t"."flag" IN (?, ?) OR "t"."flag" IS NULL)`, []any{true, false}},
		{"= list is in", "test.child", []any{L("count", "=", []any{int64(1)})}, `"t"."count" IN (?)`, []any{int64(1)}},
		{"!= list is not in", "test.child", []any{L("count", "!=", []any{int64(1)})}, `("t"."count" NOT IN (?) OR "t"."count" IS NULL)`, []any{int64(1)}},
		{"in True is =", "test.child", []any{L("flag", "in", true)}, `"t"."flag" = ?`, []any{true}},
		{"not in False is !=", "test.child", []any{L("name", "not in", false)}, `"t"."name" IS NOT NULL`, nil},

		{"datetime > date", "test.child", []any{L("stamp", ">", "2024-01-02")}, `"t"."stamp" > ?`, []any{"2024-01-02 23:59:59"}},
		{"datetime <= date", "test.child", []any{L("stamp", "<=", "2024-01-02")}, `"t"."stamp" <= ?`, []any{"2024-01-02 23:59:59"}},
		{"datetime < date", "test.child", []any{L("stamp", "<", "2024-01-02")}, `"t"."stamp" < ?`, []any{"2024-01-02 00:00:00"}},
		{"datetime >= date", "test.child", []any{L("stamp", ">=", "2024-01-02")}, `"t"."stamp" >= ?`, []any{"2024-01-02 00:00:00"}},
		{"datetime = full", "test.child", []any{L("stamp", "=", "2024-01-02 10:11:12")}, `"t"."stamp" = ?`, []any{"2024-01-02 10:11:12"}},
		{"date", "test.child", []any{L("day", "<", "2024-01-02 10:00:00")}, `"t"."day" < ?`, []any{"2024-01-02"}},

		{"id", "test.child", []any{L("id", "=", float64(7))}, `"t"."id" = ?`, []any{int64(7)}},
		{"display_name searches rec name", "test.child", []any{L("display_name", "=", "x")}, `"t"."name" = ?`, []any{"x"}},
		{"related searches its path", "test.child", []any{L("parent_name", "=", "x")},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE "_d1"."name" = ?)`, []any{"x"}},

		{"m2o id", "test.child", []any{L("parent_id", "=", int64(3))}, `"t"."parent_id" = ?`, []any{int64(3)}},
		{"m2o False", "test.child", []any{L("parent_id", "=", false)}, `"t"."parent_id" IS NULL`, nil},
		{"m2o ilike name (inactive included)", "test.child", []any{L("parent_id", "ilike", "ab")},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE lower("_d1"."name") LIKE lower(?))`, []any{"%ab%"}},
		{"m2o not ilike name", "test.child", []any{L("parent_id", "not ilike", "ab")},
			`("t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE (lower("_d1"."name") NOT LIKE lower(?) OR "_d1"."name" IS NULL)) OR "t"."parent_id" IS NULL)`, []any{"%ab%"}},
		{"m2o names", "test.child", []any{L("parent_id", "in", []any{"a", "b"})},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE "_d1"."name" IN (?, ?))`, []any{"a", "b"}},
		{"m2o in one name", "test.child", []any{L("parent_id", "in", "a")},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE "_d1"."name" = ?)`, []any{"a"}},
		{"m2o != name", "test.child", []any{L("parent_id", "!=", "a")},
			`("t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE ("_d1"."name" != ? OR "_d1"."name" IS NULL)) OR "t"."parent_id" IS NULL)`, []any{"a"}},

		{"dotted m2o", "test.child", []any{L("parent_id.name", "=", "x")},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE "_d1"."name" = ?)`, []any{"x"}},
		{"dotted m2o.id", "test.child", []any{L("parent_id.id", "in", []any{int64(1)})},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE "_d1"."id" IN (?))`, []any{int64(1)}},
		{"dotted two hops", "test.child", []any{L("parent_id.parent_id.name", "=", "x")},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE "_d1"."parent_id" IN (SELECT "_d2"."id" FROM "test_parent" AS "_d2" WHERE "_d2"."name" = ?))`, []any{"x"}},
		{"m2m below a m2o hop keeps inactive", "test.child", []any{L("parent_id.tag_ids.name", "=", "old")},
			`"t"."parent_id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE EXISTS (SELECT 1 FROM ` + rel + ` AS "_d3" WHERE "_d3"."test_parent_id" = "_d1"."id" AND "_d3"."test_tag_id" IN (SELECT "_d2"."id" FROM "test_tag" AS "_d2" WHERE "_d2"."name" = ?)))`, []any{"old"}},
		{"dotted o2m", "test.parent", []any{L("child_ids.count", ">", int64(2))},
			`"t"."id" IN (SELECT "_d1"."parent_id" FROM "test_child" AS "_d1" WHERE "_d1"."count" > ? AND "_d1"."parent_id" IS NOT NULL)`, []any{int64(2)}},
		{"dotted m2m applies active", "test.parent", []any{L("tag_ids.name", "=", "red")},
			`EXISTS (SELECT 1 FROM ` + rel + ` AS "_d2" WHERE "_d2"."test_parent_id" = "t"."id" AND "_d2"."test_tag_id" IN (SELECT "_d1"."id" FROM "test_tag" AS "_d1" WHERE "_d1"."name" = ? AND "_d1"."active" = ?))`, []any{"red", true}},
		{"dotted m2m mentioning active", "test.parent", []any{L("tag_ids.active", "=", false)},
			`EXISTS (SELECT 1 FROM ` + rel + ` AS "_d2" WHERE "_d2"."test_parent_id" = "t"."id" AND "_d2"."test_tag_id" IN (SELECT "_d1"."id" FROM "test_tag" AS "_d1" WHERE ("_d1"."active" IS NULL OR "_d1"."active" = ?)))`, []any{false}},

		{"o2m = False", "test.parent", []any{L("child_ids", "=", false)},
			`"t"."id" NOT IN (SELECT "_d1"."parent_id" FROM "test_child" AS "_d1" WHERE "_d1"."parent_id" IS NOT NULL)`, nil},
		{"o2m != False", "test.parent", []any{L("child_ids", "!=", false)},
			`"t"."id" IN (SELECT "_d1"."parent_id" FROM "test_child" AS "_d1" WHERE "_d1"."parent_id" IS NOT NULL)`, nil},
		{"o2m in ids", "test.parent", []any{L("child_ids", "in", []any{int64(1), int64(2), false})},
			`"t"."id" IN (SELECT "_d1"."parent_id" FROM "test_child" AS "_d1" WHERE "_d1"."id" IN (?, ?) AND "_d1"."parent_id" IS NOT NULL)`, []any{int64(1), int64(2)}},
		{"o2m = id", "test.parent", []any{L("child_ids", "=", int64(1))},
			`"t"."id" IN (SELECT "_d1"."parent_id" FROM "test_child" AS "_d1" WHERE "_d1"."id" IN (?) AND "_d1"."parent_id" IS NOT NULL)`, []any{int64(1)}},
		{"o2m not in", "test.parent", []any{L("child_ids", "not in", []any{int64(1)})},
			`"t"."id" NOT IN (SELECT "_d1"."parent_id" FROM "test_child" AS "_d1" WHERE "_d1"."id" IN (?) AND "_d1"."parent_id" IS NOT NULL)`, []any{int64(1)}},
		{"o2m in []", "test.parent", []any{L("child_ids", "in", []any{})}, "1=0", nil},
		{"o2m name", "test.parent", []any{L("child_ids", "ilike", "x")},
			`"t"."id" IN (SELECT "_d2"."parent_id" FROM "test_child" AS "_d2" WHERE "_d2"."id" IN (SELECT "_d1"."id" FROM "test_child" AS "_d1" WHERE lower("_d1"."name") LIKE lower(?)) AND "_d2"."parent_id" IS NOT NULL)`, []any{"%x%"}},

		{"m2m = False", "test.parent", []any{L("tag_ids", "=", false)},
			`NOT EXISTS (SELECT 1 FROM ` + rel + ` AS "_d1" WHERE "_d1"."test_parent_id" = "t"."id")`, nil},
		{"m2m != False", "test.parent", []any{L("tag_ids", "!=", nil)},
			`EXISTS (SELECT 1 FROM ` + rel + ` AS "_d1" WHERE "_d1"."test_parent_id" = "t"."id")`, nil},
		{"m2m in", "test.parent", []any{L("tag_ids", "in", []any{int64(4)})},
			`EXISTS (SELECT 1 FROM ` + rel + ` AS "_d1" WHERE "_d1"."test_parent_id" = "t"."id" AND "_d1"."test_tag_id" IN (?))`, []any{int64(4)}},
		{"m2m not in", "test.parent", []any{L("tag_ids", "not in", []any{int64(4)})},
			`NOT EXISTS (SELECT 1 FROM ` + rel + ` AS "_d1" WHERE "_d1"."test_parent_id" = "t"."id" AND "_d1"."test_tag_id" IN (?))`, []any{int64(4)}},
		{"m2m not ilike name", "test.parent", []any{L("tag_ids", "not ilike", "re")},
			`NOT EXISTS (SELECT 1 FROM ` + rel + ` AS "_d2" WHERE "_d2"."test_parent_id" = "t"."id" AND "_d2"."test_tag_id" IN (SELECT "_d1"."id" FROM "test_tag" AS "_d1" WHERE lower("_d1"."name") LIKE lower(?) AND "_d1"."active" = ?))`, []any{"%re%", true}},

		{"child_of with parent_id", "test.parent", []any{L("id", "child_of", int64(1))},
			`"t"."id" IN (WITH RECURSIVE "_d1"("id") AS (SELECT "_d2"."id" FROM "test_parent" AS "_d2" WHERE "_d2"."id" IN (?) UNION SELECT "_d3"."id" FROM "test_parent" AS "_d3" JOIN "_d1" ON "_d3"."parent_id" = "_d1"."id") SELECT "_d1"."id" FROM "_d1")`, []any{int64(1)}},
		{"parent_of with parent_id", "test.parent", []any{L("id", "parent_of", []any{int64(5)})},
			`"t"."id" IN (WITH RECURSIVE "_d1"("id") AS (SELECT "_d2"."id" FROM "test_parent" AS "_d2" WHERE "_d2"."id" IN (?) UNION SELECT "_d3"."id" FROM "test_parent" AS "_d3" JOIN "test_parent" AS "_d4" ON "_d3"."id" = "_d4"."parent_id" JOIN "_d1" ON "_d4"."id" = "_d1"."id") SELECT "_d1"."id" FROM "_d1")`, []any{int64(5)}},
		{"child_of through m2o", "test.child", []any{L("parent_id", "child_of", "top")},
			`"t"."parent_id" IN (WITH RECURSIVE "_d2"("id") AS (SELECT "_d3"."id" FROM "test_parent" AS "_d3" WHERE "_d3"."id" IN (SELECT "_d1"."id" FROM "test_parent" AS "_d1" WHERE lower("_d1"."name") LIKE lower(?) AND "_d1"."active" = ?) UNION SELECT "_d4"."id" FROM "test_parent" AS "_d4" JOIN "_d2" ON "_d4"."parent_id" = "_d2"."id") SELECT "_d2"."id" FROM "_d2")`, []any{"%top%", true}},
		{"child_of without parent is in", "test.child", []any{L("id", "child_of", []any{int64(2), int64(3)})}, `"t"."id" IN (?, ?)`, []any{int64(2), int64(3)}},
		{"child_of False", "test.parent", []any{L("id", "child_of", false)}, "1=0", nil},
		{"not child_of keeps NOT", "test.child", []any{"!", L("id", "child_of", int64(2))}, `NOT ("t"."id" IN (?))`, []any{int64(2)}},
	}
	env := newDomainTestEnv(t, SQLite)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, args, err := compileDomain(env, env.reg.Model(tc.model), "t", tc.domain)
			if err != nil {
				t.Fatalf("compileDomain(%s): %v", py.Repr(tc.domain), err)
			}
			if sql != tc.sql {
				t.Errorf("sql\n got: %s\nwant: %s", sql, tc.sql)
			}
			if !reflect.DeepEqual(args, tc.args) {
				t.Errorf("args = %#v, want %#v", args, tc.args)
			}
		})
	}
}

// TestCompileDomainPostgres checks what differs on PostgreSQL: ILIKE, the
// text cast and datetime parameters bound as time.Time.
func TestCompileDomainPostgres(t *testing.T) {
	env := newDomainTestEnv(t, Postgres)
	day := time.Date(2024, 1, 2, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name   string
		domain any
		sql    string
		args   []any
	}{
		{"ilike", []any{L("name", "ilike", "a")}, `"t"."name" ILIKE ?`, []any{"%a%"}},
		{"not ilike", []any{L("name", "not ilike", "a")}, `("t"."name" NOT ILIKE ? OR "t"."name" IS NULL)`, []any{"%a%"}},
		{"like on integer", []any{L("count", "ilike", "1")}, `"t"."count"::text ILIKE ?`, []any{"%1%"}},
		{"datetime padding", []any{L("stamp", "<=", "2024-01-02")}, `"t"."stamp" <= ?`, []any{day}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, args, err := compileDomain(env, env.reg.Model("test.child"), "t", tc.domain)
			if err != nil {
				t.Fatal(err)
			}
			if sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
				t.Errorf("got %s %#v\nwant %s %#v", sql, args, tc.sql, tc.args)
			}
		})
	}
}

func TestCompileDomainErrors(t *testing.T) {
	deep := "parent_id"
	for range 10 {
		deep += ".parent_id"
	}
	big := make([]any, maxDomainItems+1)
	for i := range big {
		big[i] = L("id", "=", int64(i))
	}
	var nested []any
	for range 300 {
		nested = append(nested, "|", L("id", "=", 1), "&", L("id", "=", 2))
	}
	nested = append(nested, L("id", "=", 3))
	tests := []struct {
		name   string
		model  string
		domain any
		kind   Kind
		msg    string
	}{
		{"not a list", "test.child", "[('name','=','a')]", KindValue, "This domain is syntactically not correct"},
		{"missing operand", "test.child", []any{"|", L("name", "=", "a")}, KindValue, "This domain is syntactically not correct"},
		{"dangling not", "test.child", []any{L("name", "=", "a"), "!"}, KindValue, "This domain is syntactically not correct"},
		{"unknown operator", "test.child", []any{L("name", "~", "a")}, KindValue, "Invalid leaf"},
		{"operators are case-sensitive", "test.child", []any{L("name", "LIKE", "a")}, KindValue, "Invalid leaf"},
		{"short leaf", "test.child", []any{[]any{"name", "="}}, KindValue, "Invalid leaf"},
		{"non-string path", "test.child", []any{[]any{int64(5), "=", int64(1)}}, KindValue, "Invalid leaf"},
		{"empty path", "test.child", []any{L("", "=", 1)}, KindValue, "Invalid leaf"},
		{"stray string", "test.child", []any{"name"}, KindValue, "Invalid leaf"},
		{"unknown field", "test.child", []any{L("nope", "=", 1)}, KindValue, `Invalid field test.child.nope in leaf ('nope', '=', 1)`},
		{"unknown field after hop", "test.child", []any{L("parent_id.nope", "=", 1)}, KindValue, "Invalid field test.parent.nope"},
		{"secret", "test.parent", []any{L("secret", "=", "x")}, KindValue, "Invalid field test.parent.secret"},
		{"secret after hop", "test.child", []any{L("parent_id.secret", "like", "a")}, KindValue, "Invalid field test.parent.secret"},
		{"password through create_uid", "test.child", []any{L("create_uid.password", "like", "$")}, KindValue, "Invalid field res.users.password"},
		{"non-stored", "test.parent", []any{L("shout", "=", "x")}, KindValue, "Invalid field test.parent.shout"},
		{"dotted plain field", "test.child", []any{L("name.foo", "=", 1)}, KindValue, "Invalid field test.child.name.foo"},
		{"too deep", "test.parent", []any{L(deep, "=", 1)}, KindValue, "Too many relational hops"},
		{"too large", "test.child", big, KindValue, "too large"},
		{"too nested", "test.child", nested, KindValue, "nested too deeply"},
		{"bad integer", "test.child", []any{L("count", "=", "abc")}, KindValue, "Invalid value"},
		{"bad datetime", "test.child", []any{L("stamp", ">", "yesterday")}, KindValue, "Invalid value"},
		{"dict value", "test.child", []any{L("name", "=", map[string]any{"a": 1})}, KindValue, ""},
		{"list for comparison", "test.child", []any{L("count", ">", []any{1})}, KindValue, "Invalid leaf"},
		{"bad id in list", "test.child", []any{L("id", "in", []any{"x"})}, KindValue, "Invalid value"},
		{"child_of on a char", "test.child", []any{L("name", "child_of", 1)}, KindValue, "Invalid leaf"},
		{"x2many bad id", "test.parent", []any{L("tag_ids", "in", []any{1.5})}, KindValue, "Invalid leaf"},
		{"like with a list", "test.child", []any{L("name", "like", []any{"a"})}, KindValue, "Invalid leaf"},
	}
	env := newDomainTestEnv(t, SQLite)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, _, err := compileDomain(env, env.reg.Model(tc.model), "t", tc.domain)
			if err == nil {
				t.Fatalf("no error, sql %s", sql)
			}
			if KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v (%v), want kind %v containing %q", err, KindOf(err), tc.kind, tc.msg)
			}
		})
	}
}

// TestCompileDomainAccess runs as plain users: restricted fields refuse
// them, sub-searches check the comodel's access and add its rules.
func TestCompileDomainAccess(t *testing.T) {
	su := newDomainTestEnv(t, SQLite)
	user := userDomainEnv(su, GroupUser)
	mqttUser := userDomainEnv(su, groupTestUser)
	admin := userDomainEnv(su, GroupSystem)
	const rel = `"test_parent_test_tag_rel"`
	tests := []struct {
		name   string
		env    *Env
		domain any
		sql    string
		kind   Kind
	}{
		{"restricted field", user, []any{L("code", "=", "x")}, "", KindAccess},
		{"restricted field by member", admin, []any{L("code", "=", "x")}, `"t"."code" = ?`, 0},
		{"comodel not readable", user, []any{L("tag_ids.name", "=", "x")}, "", KindAccess},
		{"comodel name search not readable", user, []any{L("tag_ids", "=", "x")}, "", KindAccess},
		{"ids need no sub-search", user, []any{L("tag_ids", "in", []any{int64(1)})},
			`EXISTS (SELECT 1 FROM ` + rel + ` AS "_d1" WHERE "_d1"."test_parent_id" = "t"."id" AND "_d1"."test_tag_id" IN (?))`, 0},
		{"comodel rules apply", mqttUser, []any{L("tag_ids.name", "=", "x")},
			`EXISTS (SELECT 1 FROM ` + rel + ` AS "_d2" WHERE "_d2"."test_parent_id" = "t"."id" AND "_d2"."test_tag_id" IN (SELECT "_d1"."id" FROM "test_tag" AS "_d1" WHERE "_d1"."name" = ? AND "_d1"."active" = ? AND (("_d1"."color" != ? OR "_d1"."color" IS NULL))))`, 0},
		{"system skips rules", admin, []any{L("tag_ids.name", "=", "x")},
			`EXISTS (SELECT 1 FROM ` + rel + ` AS "_d2" WHERE "_d2"."test_parent_id" = "t"."id" AND "_d2"."test_tag_id" IN (SELECT "_d1"."id" FROM "test_tag" AS "_d1" WHERE "_d1"."name" = ? AND "_d1"."active" = ?))`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, _, err := compileDomain(tc.env, su.reg.Model("test.parent"), "t", tc.domain)
			if tc.sql == "" {
				if KindOf(err) != tc.kind || err == nil {
					t.Fatalf("error %v, want kind %v", err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sql != tc.sql {
				t.Errorf("sql\n got: %s\nwant: %s", sql, tc.sql)
			}
		})
	}
}

// TestCompileDomainActiveTest: with active_test false in the context the
// x2many sub-searches keep inactive rows too.
func TestCompileDomainActiveTest(t *testing.T) {
	env := newDomainTestEnv(t, SQLite).WithContext(map[string]any{"active_test": false})
	sql, args, err := compileDomain(env, env.reg.Model("test.parent"), "t", []any{L("tag_ids", "=", "red")})
	if err != nil {
		t.Fatal(err)
	}
	want := `EXISTS (SELECT 1 FROM "test_parent_test_tag_rel" AS "_d2" WHERE "_d2"."test_parent_id" = "t"."id" AND "_d2"."test_tag_id" IN (SELECT "_d1"."id" FROM "test_tag" AS "_d1" WHERE "_d1"."name" = ?))`
	if sql != want || !reflect.DeepEqual(args, []any{"red"}) {
		t.Errorf("got %s %v\nwant %s", sql, args, want)
	}
}

// TestCompileDomainLarge: long implicit conjunctions are split into
// balanced groups (SQLite's parser limits expression depth), and long id
// lists become literals (databases limit bound parameters).
func TestCompileDomainLarge(t *testing.T) {
	env := newDomainTestEnv(t, SQLite)
	var dom []any
	for i := range 5000 {
		dom = append(dom, L("count", "!=", int64(i)))
	}
	sql, args, err := compileDomain(env, env.reg.Model("test.child"), "t", dom)
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 5000 || strings.Count(sql, "(") > 5000*2+600 {
		t.Errorf("%d args, %d parentheses", len(args), strings.Count(sql, "("))
	}
	ids := make([]any, 5000)
	for i := range ids {
		ids[i] = float64(i + 1)
	}
	sql, args, err = compileDomain(env, env.reg.Model("test.child"), "t", []any{L("id", "in", ids)})
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 0 || !strings.HasPrefix(sql, `"t"."id" IN (1, 2, 3,`) {
		t.Errorf("got %.60s... with %d args", sql, len(args))
	}
	strs := make([]any, maxDomainArgs+1)
	for i := range strs {
		strs[i] = "x"
	}
	if _, _, err := compileDomain(env, env.reg.Model("test.child"), "t", []any{L("name", "in", strs)}); KindOf(err) != KindValue {
		t.Errorf("too many values: %v", err)
	}
}

func TestDomainMentions(t *testing.T) {
	tests := []struct {
		domain any
		want   bool
	}{
		{nil, false},
		{[]any{}, false},
		{[]any{L("name", "=", "a")}, false},
		{[]any{"|", L("name", "=", "a"), L("active", "=", false)}, true},
		{[]any{"!", L("active", "=", true)}, true},
		{[]any{L("active.x", "=", 1)}, true},
		{[]any{L("activeness", "=", 1)}, false},
		{[]any{L("parent_id.active", "=", 1)}, false},
		{[]any{"active", []any{}, []any{int64(1)}, 5}, false},
		{"active", false},
	}
	for _, tc := range tests {
		if got := domainMentions(tc.domain, "active"); got != tc.want {
			t.Errorf("domainMentions(%s) = %v, want %v", py.Repr(tc.domain), got, tc.want)
		}
	}
}

// FuzzParseDomain feeds arbitrary JSON as a domain: the compiler must
// return SQL or an error of a client-facing kind, never panic, and never
// put a client string into the SQL text.
func FuzzParseDomain(f *testing.F) {
	f.Add([]byte(`[["name", "ilike", "a"], "|", ["count", ">", 1], ["parent_id.name", "=", "x"]]`))
	su := newDomainTestEnv(f, SQLite)
	pg := newDomainTestEnv(f, Postgres)
	user := userDomainEnv(su, groupTestUser)
	const marker = "zq\"'x"
	f.Fuzz(func(t *testing.T, data []byte) {
		var domain any
		if json.Unmarshal(data, &domain) != nil {
			return
		}
		for _, env := range []*Env{su, pg, user} {
			for _, model := range []string{"test.parent", "test.child", "test.tag"} {
				sql, args, err := compileDomain(env, env.reg.Model(model), "t", domain)
				if err != nil {
					if k := KindOf(err); k != KindValue && k != KindAccess {
						t.Fatalf("%s: error of kind %v: %v", model, k, err)
					}
					continue
				}
				if n := strings.Count(sql, "?"); n != len(args) {
					t.Fatalf("%s: %d placeholders, %d args: %s", model, n, len(args), sql)
				}
				if strings.Contains(sql, "'") || strings.Contains(sql, marker) {
					t.Fatalf("%s: literal in SQL: %s", model, sql)
				}
			}
		}
	})
}
