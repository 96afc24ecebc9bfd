package models

import (
	"context"
	"testing"
	"time"
)

// TestEngineAccessChanges: a committed change of users, groups or API keys
// and a logout each tell the bus that rights changed (never a rolled-back
// one, never before the commit); SessionGrants answers for many sessions at
// once which are still valid.
func TestEngineAccessChanges(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		accessNotes := func() int {
			n := 0
			for _, note := range r.bus.take() {
				if note.Channel == ChannelAccess && note.Type == NoteAccessChanged {
					n++
				}
			}
			return n
		}
		var uid int64
		if err := r.Transaction(ctx, Superuser, nil, func(env *Env) error {
			uid = makeUser(t, env, "granted", groupTestUser)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if accessNotes() == 0 {
			t.Errorf("creating a user told nobody")
		}

		writes := []struct {
			name  string
			model string
			vals  map[string]any
		}{
			{"groups of a user", "res.users", map[string]any{"groups_id": []any{[]any{int64(5)}}}},
			{"users of a group", "res.groups", map[string]any{"users": []any{[]any{int64(4), uid}}}},
			{"a password", "res.users", map[string]any{"password": "changed"}},
		}
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				for _, commit := range []bool{false, true} {
					env, end, err := r.Begin(ctx, AdminUID)
					if err != nil {
						t.Fatal(err)
					}
					id := uid
					if w.model == "res.groups" {
						id = groupID(t, env, groupTestUser)
					}
					if err := env.Write(r.Model(w.model), []int64{id}, w.vals); err != nil {
						t.Fatal(err)
					}
					if n := accessNotes(); n != 0 {
						t.Fatalf("told before the commit (%d notes)", n)
					}
					if err := end(commit); err != nil {
						t.Fatal(err)
					}
					if n := accessNotes(); (n > 0) != commit {
						t.Fatalf("commit %v: %d access notes", commit, n)
					}
				}
			})
		}

		// SessionGrants: valid sessions only, in one call.
		if err := r.Transaction(ctx, Superuser, nil, func(env *Env) error {
			return env.Write(r.Model("res.users"), []int64{uid}, map[string]any{"groups_id": []any{[]any{int64(4), groupID(t, env, groupTestUser)}}})
		}); err != nil {
			t.Fatal(err)
		}
		mine, err := r.NewSession(ctx, uid, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		admin, err := r.NewSession(ctx, AdminUID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		grants, err := r.SessionGrants(ctx, []string{mine.SID, admin.SID, mine.SID, "junk", NewSessionID()})
		if err != nil || len(grants) != 2 || grants[mine.SID].UID != uid || grants[admin.SID].UID != AdminUID {
			t.Fatalf("grants = %v, %v; want the two live sessions", grants, err)
		}
		r.bus.take()
		if err := r.DeleteSession(ctx, admin.SID); err != nil {
			t.Fatal(err)
		}
		if accessNotes() != 1 {
			t.Errorf("a logout told nobody")
		}
		if err := r.Transaction(ctx, AdminUID, nil, func(env *Env) error {
			return env.Write(r.Model("res.users"), []int64{uid}, map[string]any{"active": false})
		}); err != nil {
			t.Fatal(err)
		}
		if grants, err := r.SessionGrants(ctx, []string{mine.SID, admin.SID}); err != nil || len(grants) != 0 {
			t.Fatalf("after archiving and logout: grants %v, %v", grants, err)
		}
	})
}
