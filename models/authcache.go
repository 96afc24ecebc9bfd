package models

import (
	"crypto/sha256"
	"strconv"
	"sync"
	"time"
)

// authCacheTTL bounds how long a verified credential and a user's groups
// are trusted without asking the database. Changes made through this
// process invalidate the cache at once; a change made by another instance
// sharing the database is seen within the TTL. (Odoo caches both per
// process too; its registry signalling plays the part of our TTL.)
const authCacheTTL = 2 * time.Second

// authCache saves the two queries every RPC call would otherwise make
// before its real work: the credential check and the user's groups.
type authCache struct {
	mu     sync.Mutex
	gen    uint64 // bumped by invalidate; entries of older generations are stale
	creds  map[[32]byte]authEntry
	groups map[int64]groupsEntry
}

type authEntry struct {
	at  time.Time
	gen uint64
}

type groupsEntry struct {
	authEntry
	set map[string]bool
}

func newAuthCache() *authCache {
	return &authCache{creds: map[[32]byte]authEntry{}, groups: map[int64]groupsEntry{}}
}

func credsKey(uid int64, secret string) [32]byte {
	return sha256.Sum256([]byte(strconv.FormatInt(uid, 10) + "\x00" + secret))
}

func (c *authCache) fresh(e authEntry, now time.Time) bool {
	return e.gen == c.gen && now.Sub(e.at) < authCacheTTL
}

// verified reports whether (uid, secret) checked out recently.
func (c *authCache) verified(uid int64, secret string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.creds[credsKey(uid, secret)]
	return ok && c.fresh(e, time.Now())
}

func (c *authCache) remember(uid int64, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.creds) > 10000 {
		c.creds = map[[32]byte]authEntry{}
	}
	c.creds[credsKey(uid, secret)] = authEntry{at: time.Now(), gen: c.gen}
}

// userGroups returns the cached effective groups of uid, or nil.
func (c *authCache) userGroups(uid int64) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.groups[uid]
	if !ok || !c.fresh(e.authEntry, time.Now()) {
		return nil
	}
	return e.set
}

func (c *authCache) rememberGroups(uid int64, set map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.groups) > 10000 {
		c.groups = map[int64]groupsEntry{}
	}
	c.groups[uid] = groupsEntry{authEntry{at: time.Now(), gen: c.gen}, set}
}

// invalidate forgets everything: a user, group or API key changed.
func (c *authCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.creds)
	clear(c.groups)
}
