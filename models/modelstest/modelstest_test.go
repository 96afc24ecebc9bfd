package modelstest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// TestNewFor: every kind gives a migrated database where admin logs in
// with AdminPassword, and each registry is a database of its own (copies
// of the SQLite template share nothing).
func TestNewFor(t *testing.T) {
	for _, kind := range Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			a, b := NewFor(t, kind), NewFor(t, kind)
			if sid := Login(t, a.Registry, "admin", AdminPassword); sid == "" {
				t.Fatal("admin session id is empty")
			}
			uid := CreateUser(t, a.Registry, "alice", "alice-pw")
			if sid := Login(t, a.Registry, "alice", "alice-pw"); sid == "" {
				t.Fatal("alice session id is empty")
			}
			if _, err := b.Authenticate(context.Background(), "alice", "alice-pw", true); err == nil {
				t.Fatal("alice, created in one test database, logs in to another")
			}
			if s1, s2 := Session(t, a.Registry, uid), Session(t, a.Registry, uid); s1 == s2 {
				t.Fatalf("two sessions share id %q", s1)
			}
		})
	}
}

// TestNewRegistriesDiffer: tests that run one after the other each start
// from the template, not from what the previous one wrote.
func TestNewRegistriesDiffer(t *testing.T) {
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			reg := New(t)
			n, err := reg.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "res.users", Method: "search_count",
				Args: []any{[]any{[]any{"login", "=", "bob"}}}})
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(0) {
				t.Fatalf("%v users bob in a new database, want 0", n)
			}
			CreateUser(t, reg.Registry, "bob", "bob-pw")
		})
	}
}

// recorder is a testing.TB whose clean-ups and errors the test runs and
// reads itself.
type recorder struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}

func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// TestCheckLeaks: a goroutine still running at the end is reported, with
// its stack; one that ended is not.
func TestCheckLeaks(t *testing.T) {
	t.Run("leak", func(t *testing.T) {
		rec := &recorder{TB: t}
		CheckLeaks(rec)
		release := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); leakyWorker(release) }()
		rec.end()
		close(release)
		<-done
		if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "leakyWorker") {
			t.Fatalf("errors %q, want one naming leakyWorker", rec.errs)
		}
	})
	t.Run("none", func(t *testing.T) {
		rec := &recorder{TB: t}
		CheckLeaks(rec)
		done := make(chan struct{})
		go func() { close(done) }()
		<-done
		rec.end()
		if len(rec.errs) != 0 {
			t.Fatalf("errors %q, want none", rec.errs)
		}
	})
}

func leakyWorker(release <-chan struct{}) { <-release }
