package rpc

import (
	"sync"
	"time"
)

// loginLimiter counts failed logins per key (a remote address, or an
// account for authThrottle) in fixed windows that start at the first
// failure, like Odoo's login cooldown (res.users _assert_can_auth) but with
// a plain count instead of exponential delays. It lives in memory: a
// restart forgets, which is acceptable for a brake on password guessing.
// The map is bounded so that a flood of keys cannot exhaust memory.
type loginLimiter struct {
	limit  int           // failures allowed per window
	window time.Duration // length of a window, from the first failure
	max    int           // most addresses tracked at once
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*loginFailures
}

type loginFailures struct {
	count int
	reset time.Time // when the window ends and the count is forgotten
}

// defaultLimiterSize bounds the tracked addresses; each entry is a few
// dozen bytes.
const defaultLimiterSize = 10000

func newLoginLimiter(limit int, window time.Duration, max int) *loginLimiter {
	return &loginLimiter{limit: limit, window: window, max: max, now: time.Now, entries: map[string]*loginFailures{}}
}

// allow reports whether addr may try to log in now: fewer than limit
// failures in its current window.
func (l *loginLimiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[addr]
	if e == nil {
		return true
	}
	if !l.now().Before(e.reset) {
		delete(l.entries, addr)
		return true
	}
	return e.count < l.limit
}

// fail records a failed login from addr, and reports whether this one
// used up its window's allowance (it is blocked from now on).
func (l *loginLimiter) fail(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entries[addr]
	if e != nil && !now.Before(e.reset) {
		e = nil
	}
	if e == nil {
		if len(l.entries) >= l.max {
			l.evict(now)
		}
		e = &loginFailures{reset: now.Add(l.window)}
		l.entries[addr] = e
	}
	e.count++
	return e.count == l.limit
}

// evict makes room: expired entries go first; if none expired, the entry
// whose window ends soonest goes, as it is the one closest to being
// forgotten anyway. Called with mu held.
func (l *loginLimiter) evict(now time.Time) {
	var oldest string
	var oldestReset time.Time
	for addr, e := range l.entries {
		if !now.Before(e.reset) {
			delete(l.entries, addr)
			continue
		}
		if oldest == "" || e.reset.Before(oldestReset) {
			oldest, oldestReset = addr, e.reset
		}
	}
	if len(l.entries) >= l.max && oldest != "" {
		delete(l.entries, oldest)
	}
}

// size is the number of tracked addresses (for tests).
func (l *loginLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}
