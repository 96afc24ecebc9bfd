package models

import (
	"time"

	"reflect"
	"testing"
)

// TestEngineRecordRulesEverywhere: the methods that take ids or hand out
// related ids apply the record rules as search and read do: exists leaves
// out what the user may not see, name_get and copy refuse it (read's
// AccessError), one2many values (res.users.api_key_ids) list only the
// comodel records inside its rules, read_group and web_search_read count
// only those. Settings members see everything. (mqtt's TestRecordRules runs
// every generic method under each of the product's groups.)
func TestEngineRecordRulesEverywhere(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		su := r.testEnv(t)
		testerID := makeUser(t, su, "tester", groupTestUser)
		tester, other, admin := su.WithUser(testerID), su.WithUser(makeUser(t, su, "other", groupTestUser)), su.WithUser(AdminUID)
		mn := r.Model("test.note")
		mine, err := tester.Create(mn, map[string]any{"name": "mine"})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := other.Create(mn, map[string]any{"name": "theirs"})
		if err != nil {
			t.Fatal(err)
		}
		call := func(env *Env, model, method string, args ...any) (any, error) {
			t.Helper()
			var got any
			var err error
			savepoint(t, env, func() { got, err = env.call(model, method, args, nil) })
			return got, err
		}
		check := func(what string, got, want any, err error) {
			t.Helper()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, %v; want %#v", what, got, err, want)
			}
		}

		got, err := call(tester, "test.note", "exists", []any{theirs, mine, int64(424242)})
		check("exists", got, []int64{mine}, err)
		got, err = call(admin, "test.note", "exists", []any{theirs, mine})
		check("exists as admin", got, []int64{theirs, mine}, err)

		_, err = call(tester, "test.note", "name_get", []any{mine, theirs})
		wantErr(t, "name_get of another's note", err, KindAccess, "Due to security restrictions")
		got, err = call(tester, "test.note", "name_get", []any{mine, int64(424242)})
		check("name_get of an own and a missing note", got, []any{[]any{mine, "mine"}}, err)

		_, err = call(tester, "test.note", "copy", theirs)
		wantErr(t, "copy of another's note", err, KindAccess, "Due to security restrictions")
		if _, err = call(tester, "test.note", "copy", mine); err != nil {
			t.Errorf("copy of an own note: %v", err)
		}

		got, err = call(tester, "test.note", "read_group", []any{}, []any{"user_id"}, []any{"user_id"})
		if err != nil {
			t.Fatal(err)
		}
		if groups := got.([]*Dict); len(groups) != 1 || dictMap(groups[0])["user_id_count"] != int64(1) {
			t.Errorf("read_group of notes = %v", got)
		}
		got, err = call(tester, "test.note", "web_search_read", []any{}, []any{"name"})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := got.(*Dict).Get("length"); n != int64(1) {
			t.Errorf("web_search_read length = %v", n)
		}

		// res.users.api_key_ids: the keys of users as each sees them.
		keys := map[int64][]int64{}
		for _, env := range []*Env{tester, other, admin} {
			if _, err := GenerateAPIKey(env, "key of "+itoa(env.UID), "", time.Time{}); err != nil {
				t.Fatal(err)
			}
			ids, _ := su.Search(r.Model("res.users.apikeys"), []any{L("user_id", "=", env.UID)}, 0, 0, "")
			keys[env.UID] = ids
		}
		users := []int64{tester.UID, other.UID, AdminUID}
		for _, c := range []struct {
			env  *Env
			want map[int64][]int64
		}{
			{tester, map[int64][]int64{tester.UID: keys[tester.UID], other.UID: {}, AdminUID: {}}},
			{admin, keys},
		} {
			recs, err := c.env.Read(r.Model("res.users"), users, []string{"api_key_ids"}, "")
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64][]int64{}
			for _, d := range recs {
				id, _ := d.Get("id")
				v, _ := d.Get("api_key_ids")
				got[id.(int64)] = v.([]int64)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("api_key_ids as uid %d = %v, want %v", c.env.UID, got, c.want)
			}
		}
	})
}
