package models

import (
	"strings"
	"testing"
)

func TestParseOrder(t *testing.T) {
	env := newDomainTestEnv(t, SQLite)
	m := env.reg.Model("test.child")
	tests := []struct {
		order string
		want  string // "field[-]" per term, "-" meaning descending
		kind  Kind
	}{
		{"", "", 0},
		{"id", "id", 0},
		{"name desc, id", "name- id", 0},
		{"  name   DESC ,count asc,id", "name- count id", 0},
		{`"name" desc`, "name-", 0},
		{"name\tdesc", "name-", 0},
		{"name,", "", KindUser},
		{", name", "", KindUser},
		{" ", "", KindUser},
		{"name desc asc", "", KindUser},
		{"name descending", "", KindUser},
		{"name; DROP TABLE test_child", "", KindUser},
		{"name)", "", KindUser},
		{"lower(name)", "", KindUser},
		{`"name`, "", KindUser},
		{"nope", "", KindValue},
		{"NAME", "", KindValue},
		{"parent_id.id", "", KindValue},
		{"name:max", "", KindValue},
	}
	for _, tc := range tests {
		t.Run(tc.order, func(t *testing.T) {
			terms, err := parseOrder(m, tc.order)
			if tc.kind != 0 {
				if err == nil || KindOf(err) != tc.kind {
					t.Fatalf("error %v, want kind %v", err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, term := range terms {
				s := term.Field.Name
				if term.Desc {
					s += "-"
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
	_, err := parseOrder(m, "nope")
	if want := "Invalid field 'nope' on model 'test.child'"; err == nil || err.Error() != want {
		t.Errorf("message %v, want %s", err, want)
	}
}

func TestOrderSQL(t *testing.T) {
	const parentName = `(SELECT "_o1"."name" FROM "test_parent" AS "_o1" WHERE "_o1"."id" = "t"."parent_id")`
	const parentID = `(SELECT "_o1"."id" FROM "test_parent" AS "_o1" WHERE "_o1"."id" = "t"."parent_id")`
	tests := []struct {
		name    string
		dialect Dialect
		model   string
		order   string
		want    string
	}{
		{"default order", SQLite, "test.child", "", `"t"."stamp" DESC NULLS FIRST, "t"."id" ASC`},
		{"default order pg", Postgres, "test.child", "", `"t"."stamp" DESC, "t"."id" ASC`},
		{"plain", SQLite, "test.child", "name, count desc", `"t"."name" ASC NULLS LAST, "t"."count" DESC NULLS FIRST`},
		{"plain pg", Postgres, "test.child", "name, count desc", `"t"."name" ASC, "t"."count" DESC`},
		{"boolean", Postgres, "test.child", "flag desc", `COALESCE("t"."flag", FALSE) DESC`},
		{"m2o by comodel order", Postgres, "test.child", "parent_id",
			parentName + ` ASC, ` + parentID + ` ASC`},
		{"m2o desc reverses the comodel order", SQLite, "test.child", "parent_id desc",
			parentName + ` DESC NULLS FIRST, ` + parentID + ` DESC NULLS FIRST`},
		{"m2o to a reverse-ordered comodel", Postgres, "test.child", "tag_id",
			`(SELECT "_o1"."name" FROM "test_tag" AS "_o1" WHERE "_o1"."id" = "t"."tag_id") DESC, (SELECT "_o1"."id" FROM "test_tag" AS "_o1" WHERE "_o1"."id" = "t"."tag_id") ASC`},
		{"m2o desc to a reverse-ordered comodel", Postgres, "test.child", "tag_id desc",
			`(SELECT "_o1"."name" FROM "test_tag" AS "_o1" WHERE "_o1"."id" = "t"."tag_id") ASC, (SELECT "_o1"."id" FROM "test_tag" AS "_o1" WHERE "_o1"."id" = "t"."tag_id") DESC`},
		{"m2o to an id-ordered comodel", Postgres, "test.child", "group_id desc", `"t"."group_id" DESC`},
		{"m2o to users, ordered by name and login", Postgres, "test.child", "create_uid",
			`(SELECT "_o1"."name" FROM "res_users" AS "_o1" WHERE "_o1"."id" = "t"."create_uid") ASC, (SELECT "_o1"."login" FROM "res_users" AS "_o1" WHERE "_o1"."id" = "t"."create_uid") ASC`},
		{"non-stored ignored", Postgres, "test.child", "display_name, parent_name, id desc", `"t"."id" DESC`},
		{"x2many and secret ignored", Postgres, "test.parent", "child_ids, secret, name", `"t"."name" ASC`},
		{"nothing usable", Postgres, "test.parent", "child_ids", `"t"."id" ASC`},
		{"id", SQLite, "test.child", "id desc", `"t"."id" DESC`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newDomainTestEnv(t, tc.dialect)
			got, err := orderSQL(env, env.reg.Model(tc.model), "t", tc.order)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// TestOrderSQLSelfReference: a model ordered by its own many2one stops
// after one level, as Odoo's seen set does, instead of recursing forever.
func TestOrderSQLSelfReference(t *testing.T) {
	env := newDomainTestEnv(t, Postgres)
	m := env.reg.Model("test.parent")
	m.Order = "parent_id, name"
	got, err := orderSQL(env, m, "t", "")
	if err != nil {
		t.Fatal(err)
	}
	want := `(SELECT "_o1"."name" FROM "test_parent" AS "_o1" WHERE "_o1"."id" = "t"."parent_id") ASC, "t"."name" ASC`
	if got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

func TestOrderSQLErrors(t *testing.T) {
	su := newDomainTestEnv(t, SQLite)
	user := userDomainEnv(su, GroupUser)
	tests := []struct {
		name  string
		env   *Env
		order string
		kind  Kind
	}{
		{"syntax", su, "name desc nulls last", KindUser},
		{"unknown", su, "nope", KindValue},
		{"restricted field", user, "code", KindAccess},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := orderSQL(tc.env, su.reg.Model("test.parent"), "t", tc.order)
			if KindOf(err) != tc.kind || err == nil {
				t.Errorf("error %v, want kind %v", err, tc.kind)
			}
		})
	}
}
