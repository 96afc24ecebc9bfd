package rpc

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestAuthThrottle runs scripted logins through the throttle with a fake
// clock: limits of 3 failures per address and 5 per account, a one-minute
// window.
func TestAuthThrottle(t *testing.T) {
	type step struct {
		op      string // "fail", "ok" (a successful login), "wait"
		addr    string
		account string
		wait    time.Duration
		allowed map[[2]string]bool // {addr, account} -> whether check passes afterwards
	}
	pair := func(addr, account string) [2]string { return [2]string{addr, account} }
	fail := func(addr, account string) step { return step{op: "fail", addr: addr, account: account} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"an address over its limit is refused for every account, even with the right password", []step{
			fail("a", "login:admin"), fail("a", "login:admin"),
			{op: "fail", addr: "a", account: "login:bob", allowed: map[[2]string]bool{
				pair("a", "login:admin"): false, pair("a", "login:carol"): false, pair("a", "uid:2"): false,
				pair("b", "login:admin"): true,
			}},
		}},
		{"guesses spread over addresses block the account for untrusted addresses", []step{
			{op: "ok", addr: "office", account: "login:admin"},
			fail("x1", "login:admin"), fail("x2", "login:admin"), fail("x3", "login:admin"), fail("x4", "login:admin"),
			{op: "fail", addr: "x5", account: "login:admin", allowed: map[[2]string]bool{
				pair("x6", "login:admin"):     false, // a new address
				pair("x1", "login:admin"):     false,
				pair("office", "login:admin"): true, // logged in as admin before
				pair("office", "uid:2"):       true, // another account name: its own count
				pair("x6", "login:bob"):       true,
			}},
		}},
		{"trust expires", []step{
			{op: "ok", addr: "office", account: "login:admin"},
			{op: "wait", wait: trustTTL},
			fail("x1", "login:admin"), fail("x2", "login:admin"), fail("x3", "login:admin"), fail("x4", "login:admin"),
			{op: "fail", addr: "x5", account: "login:admin", allowed: map[[2]string]bool{pair("office", "login:admin"): false}},
		}},
		{"a success forgives nothing", []step{
			fail("a", "login:bob"), fail("a", "login:bob"),
			{op: "ok", addr: "a", account: "login:mallory"},
			{op: "fail", addr: "a", account: "login:bob", allowed: map[[2]string]bool{pair("a", "login:mallory"): false}},
		}},
		{"the window ends", []step{
			fail("a", "login:admin"), fail("a", "login:admin"), fail("a", "login:admin"),
			{op: "wait", wait: 59 * time.Second, allowed: map[[2]string]bool{pair("a", "login:admin"): false}},
			{op: "wait", wait: time.Second, allowed: map[[2]string]bool{pair("a", "login:admin"): true}},
		}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
			th := newAuthThrottle(3, 5, time.Minute, 100, slog.New(slog.DiscardHandler))
			th.now, th.byAddr.now, th.byAccount.now = clock.now, clock.now, clock.now
			for i, s := range tt.steps {
				switch s.op {
				case "fail":
					th.fail(ctx, s.addr, s.account)
				case "ok":
					th.succeed(s.addr, s.account)
				case "wait":
					clock.advance(s.wait)
				}
				for p, want := range s.allowed {
					err := th.check(ctx, p[0], p[1])
					if got := err == nil; got != want {
						t.Errorf("step %d: check(%s, %s) = %v, want allowed %v", i, p[0], p[1], err, want)
					}
					if err != nil && !errors.Is(err, errTooManyLogins) {
						t.Errorf("step %d: refusal %v, want errTooManyLogins", i, err)
					}
				}
			}
		})
	}
}

// TestAuthThrottleTrustBounded: the trusted pairs stay within the bound.
func TestAuthThrottleTrustBounded(t *testing.T) {
	th := newAuthThrottle(3, 5, time.Minute, 10, slog.New(slog.DiscardHandler))
	for i := range 1000 {
		th.succeed("a", uidAccount(int64(i)))
		if n := len(th.trusted); n > 10 {
			t.Fatalf("%d trusted pairs after %d logins, bound 10", n, i+1)
		}
	}
}
