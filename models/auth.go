package models

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// DefaultHashCost is the bcrypt cost of stored passwords: it trades login
// latency for resistance to offline guessing; RPC calls stay fast because
// verified credentials are cached.
const DefaultHashCost = 11

// hashPassword returns the stored form of a password.
func hashPassword(pw string, cost int) (string, error) {
	if len(pw) > 72 {
		// bcrypt ignores bytes past 72; pre-hash so long passphrases keep
		// their full strength.
		sum := sha256.Sum256([]byte(pw))
		pw = "sha256:" + hex.EncodeToString(sum[:])
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	return string(h), err
}

func checkPassword(hash, pw string) bool {
	if hash == "" || pw == "" {
		return false
	}
	return compareHash(hash, pw)
}

// compareHash is the bcrypt comparison itself, whatever hash and pw are.
func compareHash(hash, pw string) bool {
	if len(pw) > 72 {
		sum := sha256.Sum256([]byte(pw))
		pw = "sha256:" + hex.EncodeToString(sum[:])
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// comparePassword is checkPassword, counted: every password check of a
// login goes through it, so tests can see that each path did the same
// bcrypt work. A user without a password (an empty hash) is compared
// against the dummy hash, for the same reason.
func (r *Registry) comparePassword(hash, pw string) bool {
	r.passwordChecks.Add(1)
	if hash == "" {
		compareHash(r.dummyHash(), pw)
		return false
	}
	return pw != "" && compareHash(hash, pw)
}

// dummyHash is a bcrypt hash of a random password at the registry's cost,
// made once: the hash unknown logins are compared against.
func (r *Registry) dummyHash() string {
	r.dummyOnce.Do(func() {
		pw, err := randomPassword(20)
		if err == nil {
			r.dummy, err = hashPassword(pw, r.hashCost)
		}
		if err != nil {
			// Never fails with crypto/rand and a valid cost; a bcrypt
			// hash of the right cost that matches nothing keeps the
			// timing even if it ever does.
			r.dummy = "$2a$" + strconv.Itoa(r.hashCost) + "$" + strings.Repeat(".", 53)
		}
	})
	return r.dummy
}

// API keys are 40 hex characters (160 random bits, as Odoo's); the first 8
// are stored in clear as a lookup index, the whole key only as SHA-256,
// which is enough for a random secret of that length.
const apiKeyIndexLen = 8

func newAPIKey() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func hashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// credKey identifies a verified (uid, secret, stored hash) triple; keeping
// the stored hash in the key makes a password change invalidate the entry
// on every instance that shares the database.
type credKey [32]byte

func makeCredKey(uid int64, secret, stored string) credKey {
	return sha256.Sum256([]byte(strconv.FormatInt(uid, 10) + "\x00" + secret + "\x00" + stored))
}

type userCreds struct {
	ID       int64
	Login    string
	Password string
	Active   bool
}

func (r *Registry) loadCreds(ctx context.Context, where string, arg any) (*userCreds, error) {
	var rows []userCreds
	err := r.db.WithContext(ctx).Raw(`SELECT "id", "login", COALESCE("password", '') AS password, "active" FROM "res_users" WHERE `+where, arg).Scan(&rows).Error
	if err != nil {
		return nil, Internal("load user", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// verify checks secret against the user's password, and for
// non-interactive logins also against the user's API keys (scope rpc or
// none), like Odoo's _check_credentials. A login that cannot succeed (no
// such user, inactive, the superuser) costs the same bcrypt comparison as
// a wrong password, against a dummy hash: otherwise the answer's time
// tells which logins exist (0.4 ms against 150 ms).
func (r *Registry) verify(ctx context.Context, u *userCreds, secret string, interactive bool) bool {
	if secret == "" {
		return false
	}
	if u == nil || !u.Active || u.ID == Superuser {
		r.comparePassword(r.dummyHash(), secret)
		return false
	}
	k := makeCredKey(u.ID, secret, u.Password)
	r.credMu.Lock()
	_, ok := r.credCache[k]
	r.credMu.Unlock()
	if ok {
		return true
	}
	if r.comparePassword(u.Password, secret) {
		r.credMu.Lock()
		if len(r.credCache) > 10000 {
			r.credCache = map[credKey]struct{}{}
		}
		r.credCache[k] = struct{}{}
		r.credMu.Unlock()
		return true
	}
	if interactive || len(secret) < apiKeyIndexLen {
		return false
	}
	var hashes []string
	err := r.db.WithContext(ctx).Raw(`SELECT "key" FROM "res_users_apikeys" WHERE "user_id" = ? AND "index" = ? AND `+apiKeyUsable,
		u.ID, secret[:apiKeyIndexLen], r.dialect.dbDatetime(time.Now())).Scan(&hashes).Error
	if err != nil {
		r.log.Error("Unable to look up API keys", slog.Int64("uid", u.ID), slog.Any("error", err))
		return false
	}
	want := hashAPIKey(secret)
	for _, h := range hashes {
		if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
			return true
		}
	}
	return false
}

// Authenticate returns the uid of login when password (or, for
// non-interactive logins, an API key) is right, and ErrAccessDenied
// otherwise. It records the login date.
func (r *Registry) Authenticate(ctx context.Context, login, password string, interactive bool) (int64, error) {
	if login == "" || password == "" {
		return 0, ErrAccessDenied
	}
	u, err := r.loadCreds(ctx, `"login" = ? AND "active"`, login)
	if err != nil {
		return 0, err
	}
	if !r.verify(ctx, u, password, interactive) {
		return 0, ErrAccessDenied
	}
	now := r.dialect.dbDatetime(time.Now())
	if err := r.db.WithContext(ctx).Exec(`UPDATE "res_users" SET "login_date" = ? WHERE "id" = ?`, now, u.ID).Error; err != nil {
		return 0, Internal("record login", err)
	}
	return u.ID, nil
}

// CheckCredentials verifies a (uid, password or API key) pair as
// object.execute_kw does on every call.
func (r *Registry) CheckCredentials(ctx context.Context, uid int64, password string) error {
	if password == "" {
		return ErrAccessDenied
	}
	if r.auth.verified(uid, password) {
		return nil
	}
	u, err := r.loadCreds(ctx, `"id" = ?`, uid)
	if err != nil {
		return err
	}
	if !r.verify(ctx, u, password, false) {
		return ErrAccessDenied
	}
	r.auth.remember(uid, password)
	return nil
}

// sessionToken binds a web session to the user's current credentials: a
// password change or deactivation invalidates it (Odoo's session_token).
func (r *Registry) sessionToken(u *userCreds) string {
	mac := hmac.New(sha256.New, r.secret)
	mac.Write([]byte(strconv.FormatInt(u.ID, 10) + "\x00" + u.Login + "\x00" + u.Password + "\x00" + strconv.FormatBool(u.Active)))
	return hex.EncodeToString(mac.Sum(nil))
}

// GenerateAPIKey creates an API key for the env's user and returns it; the
// key is shown once and stored only hashed. A zero expires never expires.
func GenerateAPIKey(env *Env, name, scope string, expires time.Time) (string, error) {
	if name == "" {
		return "", UserErrorf("The API key needs a description.")
	}
	if !expires.IsZero() && !expires.After(time.Now()) {
		return "", UserErrorf("The API key must expire in the future.")
	}
	key, err := newAPIKey()
	if err != nil {
		return "", Internal("generate api key", err)
	}
	m := env.reg.Model("res.users.apikeys")
	vals := map[string]any{"name": name, "user_id": env.UID, "index": key[:apiKeyIndexLen], "key": hashAPIKey(key)}
	if scope != "" {
		vals["scope"] = scope
	}
	if !expires.IsZero() {
		vals["expiration_date"] = expires.UTC().Format(DatetimeFormat)
	}
	if _, err := env.Sudo().insert(m, vals); err != nil {
		return "", err
	}
	return key, nil
}

// apiKeyUsable is the condition on a res_users_apikeys row (one parameter:
// now) of Odoo 19's _check_credentials(scope='rpc'): a key of scope rpc or
// of no scope, not expired.
const apiKeyUsable = `("scope" IS NULL OR "scope" = '' OR "scope" = 'rpc') AND ("expiration_date" IS NULL OR "expiration_date" >= ?)`

// expirationArg reads generate's expiration_date: False/None for none, or
// a date or datetime string (Odoo 19 takes ISO 8601, "2026-05-19"); a date
// alone expires at the end of that day, UTC.
func expirationArg(v any) (time.Time, error) {
	if py.IsFalse(v) {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, ValueErrorf("expiration_date must be a date string, not %s", py.Repr(v))
	}
	s = strings.TrimSpace(s)
	if d, err := time.Parse(DateFormat, s); err == nil {
		return d.Add(24*time.Hour - time.Second), nil
	}
	t, err := parseDatetime(strings.Replace(strings.TrimSuffix(s, "Z"), "T", " ", 1))
	if err != nil {
		return time.Time{}, ValueErrorf("expiration_date %s is not a date (YYYY-MM-DD) or a datetime (YYYY-MM-DD HH:MM:SS)", py.Repr(v))
	}
	return t, nil
}

// AuthenticateAPIKey returns the user whose API key key is (Odoo 19's
// _auth_method_bearer: scope rpc or none, not expired, an active user
// other than the superuser), and ErrAccessDenied otherwise. The key alone
// names its user: its first characters are the stored index.
func (r *Registry) AuthenticateAPIKey(ctx context.Context, key string) (int64, error) {
	if len(key) < apiKeyIndexLen {
		return 0, ErrAccessDenied
	}
	var rows []struct {
		UserID int64  `gorm:"column:user_id"`
		Key    string `gorm:"column:key"`
	}
	err := r.db.WithContext(ctx).Raw(`SELECT k."user_id", k."key" FROM "res_users_apikeys" k JOIN "res_users" u ON u."id" = k."user_id"
		WHERE u."active" AND u."id" <> ? AND k."index" = ? AND `+apiKeyUsable,
		Superuser, key[:apiKeyIndexLen], r.dialect.dbDatetime(time.Now())).Scan(&rows).Error
	if err != nil {
		return 0, Internal("look up api key", err)
	}
	want := hashAPIKey(key)
	for _, row := range rows {
		if subtle.ConstantTimeCompare([]byte(row.Key), []byte(want)) == 1 {
			return row.UserID, nil
		}
	}
	return 0, ErrAccessDenied
}
