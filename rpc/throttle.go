package rpc

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// authThrottle brakes password guessing on every entry point that checks a
// password or an API key: /web/session/authenticate, common.login and
// common.authenticate, object.execute and object.execute_kw, over XML-RPC
// (both flavours) and /jsonrpc. It counts failures two ways:
//
//   - per client address (clientaddr.Key; in proxy mode the client a
//     trusted proxy named): once an address has used up its
//     allowance, every attempt from it is refused until its window ends,
//     even with the right password, as Odoo's _assert_can_auth does;
//     otherwise a refusal that only wrong guesses get would tell a guess
//     right. Other addresses are not affected.
//   - per account (a login, or a uid for object calls), from all addresses
//     together, against guessing spread over many addresses. While an
//     account is over its allowance, only addresses that logged in as it
//     in the last trustTTL may still try, so an attacker who cannot guess
//     the password cannot lock its owner's scripts out either.
//
// A success forgives nothing (failures expire with their window): else
// logging into an account of one's own between guesses would reset the
// address's count. A correct call pays no extra cost: two map lookups
// under a mutex.
type authThrottle struct {
	byAddr    *loginLimiter
	byAccount *loginLimiter // keys are accountKey hashes
	log       *slog.Logger

	mu      sync.Mutex
	trusted map[[32]byte]time.Time // trustKey(account, addr) -> last successful login
	now     func() time.Time
}

// trustTTL is how long a successful login keeps an address trusted for
// its account; scripts that call at least daily stay trusted for good.
const trustTTL = 24 * time.Hour

func newAuthThrottle(perAddr, perAccount int, window time.Duration, max int, log *slog.Logger) *authThrottle {
	return &authThrottle{
		byAddr:    newLoginLimiter(perAddr, window, max),
		byAccount: newLoginLimiter(perAccount, window, max),
		log:       log,
		trusted:   map[[32]byte]time.Time{},
		now:       time.Now,
	}
}

// loginAccount and uidAccount name the account a login entry point and an
// object call act on. They stay apart (a login is not resolved to its uid
// before the password is checked), so an account has the allowance of
// each.
func loginAccount(login string) string { return "login:" + login }
func uidAccount(uid int64) string      { return "uid:" + strconv.FormatInt(uid, 10) }

// accountKey hashes an account name: logins are client-chosen and may be
// long, and the limiter keeps its keys.
func accountKey(account string) string {
	sum := sha256.Sum256([]byte(account))
	return string(sum[:])
}

func trustKey(account, addr string) [32]byte {
	return sha256.Sum256([]byte(account + "\x00" + addr))
}

// errTooManyLogins is Odoo's refusal during a login cooldown.
var errTooManyLogins = &models.Error{Kind: models.KindAccessDenied, Message: msgTooManyLogins}

// check returns errTooManyLogins when addr may not try to log in as
// account now.
func (t *authThrottle) check(ctx context.Context, addr, account string) error {
	if !t.byAddr.allow(addr) {
		t.log.DebugContext(ctx, "Login refused: too many failures from this address", slog.String("remote_addr", addr))
		return errTooManyLogins
	}
	if !t.byAccount.allow(accountKey(account)) && !t.isTrusted(account, addr) {
		t.log.DebugContext(ctx, "Login refused: too many failures for this account", slog.String("remote_addr", addr), slog.String("account", account))
		return errTooManyLogins
	}
	return nil
}

// fail records a failed login; it logs once when an address or an
// account starts a cooldown, not for every refused attempt after.
func (t *authThrottle) fail(ctx context.Context, addr, account string) {
	if t.byAddr.fail(addr) {
		t.log.WarnContext(ctx, "Too many failed logins from an address; refusing its logins for the rest of the minute",
			slog.String("remote_addr", addr), slog.Int("failures", t.byAddr.limit))
	}
	if t.byAccount.fail(accountKey(account)) {
		t.log.WarnContext(ctx, "Too many failed logins for an account; refusing it from untrusted addresses for the rest of the minute",
			slog.String("account", account), slog.String("remote_addr", addr), slog.Int("failures", t.byAccount.limit))
	}
}

// succeed trusts addr for account.
func (t *authThrottle) succeed(addr, account string) {
	k := trustKey(account, addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if _, ok := t.trusted[k]; !ok && len(t.trusted) >= t.byAddr.max {
		t.evictTrusted(now)
	}
	t.trusted[k] = now
}

func (t *authThrottle) isTrusted(account, addr string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.trusted[trustKey(account, addr)]
	return ok && t.now().Sub(at) < trustTTL
}

// evictTrusted drops expired pairs, and the oldest one if none expired.
// Only successful logins add pairs, so an attacker cannot flood the map.
// Called with mu held.
func (t *authThrottle) evictTrusted(now time.Time) {
	var oldest [32]byte
	var oldestAt time.Time
	found := false
	for k, at := range t.trusted {
		if now.Sub(at) >= trustTTL {
			delete(t.trusted, k)
			continue
		}
		if !found || at.Before(oldestAt) {
			oldest, oldestAt, found = k, at, true
		}
	}
	if len(t.trusted) >= t.byAddr.max && found {
		delete(t.trusted, oldest)
	}
}

// clientAddrKey is the context key of the request's client address.
type clientAddrKey struct{}

// clientAddr is the client address withClientAddr stored in ctx; "" when
// there is none (a dispatch that did not come through the handler).
func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// authenticate is every login by login name: the web login
// (interactive) and common.login/authenticate, throttled.
func (s *server) authenticate(ctx context.Context, login, password string, interactive bool) (int64, error) {
	addr, account := clientAddr(ctx), loginAccount(login)
	if err := s.throttle.check(ctx, addr, account); err != nil {
		return 0, err
	}
	uid, err := s.reg.Authenticate(ctx, login, password, interactive)
	switch {
	case err == nil:
		s.throttle.succeed(addr, account)
	case models.KindOf(err) == models.KindAccessDenied:
		s.throttle.fail(ctx, addr, account)
	}
	return uid, err
}

// checkCredentials is the (uid, password or API key) check of every
// object call, throttled.
func (s *server) checkCredentials(ctx context.Context, uid int64, password string) error {
	addr, account := clientAddr(ctx), uidAccount(uid)
	if err := s.throttle.check(ctx, addr, account); err != nil {
		return err
	}
	err := s.reg.CheckCredentials(ctx, uid, password)
	switch {
	case err == nil:
		s.throttle.succeed(addr, account)
	case models.KindOf(err) == models.KindAccessDenied:
		s.throttle.fail(ctx, addr, account)
	}
	return err
}
