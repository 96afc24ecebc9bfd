package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// ErrSessionExpired is returned when a web session is unknown, expired, or
// belongs to credentials that changed since login (JSON-RPC error 100).
var ErrSessionExpired = errors.New("models: no such session")

// Session is a logged-in web session, stored in the database so that a
// restart or a second instance keeps it.
type Session struct {
	SID     string
	UID     int64
	Login   string
	Expires time.Time
}

type sessionRow struct {
	SID     string `gorm:"column:sid"`
	UID     int64  `gorm:"column:uid"`
	Token   string `gorm:"column:token"`
	Expires string `gorm:"column:expires"`
}

// NewSessionID returns a fresh 40-hex-character session id, Odoo's format.
func NewSessionID() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// ValidSessionID reports whether s has the shape of a session id; other
// cookie values are ignored, as Odoo does.
func ValidSessionID(s string) bool {
	if len(s) != 40 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// NewSession stores a session for uid valid for maxAge and returns it. The
// id is always new: logging in rotates the session id.
func (r *Registry) NewSession(ctx context.Context, uid int64, maxAge time.Duration) (*Session, error) {
	u, err := r.loadCreds(ctx, `"id" = ?`, uid)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, ErrAccessDenied
	}
	s := &Session{SID: NewSessionID(), UID: uid, Login: u.Login, Expires: time.Now().UTC().Add(maxAge).Truncate(time.Second)}
	err = r.db.WithContext(ctx).Exec(`INSERT INTO "web_session" ("sid", "uid", "token", "expires") VALUES (?, ?, ?, ?)`,
		s.SID, uid, r.sessionToken(u), s.Expires.Format(DatetimeFormat)).Error
	if err != nil {
		return nil, Internal("store session", err)
	}
	return s, nil
}

// Session loads a valid session; ErrSessionExpired otherwise.
func (r *Registry) Session(ctx context.Context, sid string) (*Session, error) {
	if !ValidSessionID(sid) {
		return nil, ErrSessionExpired
	}
	var rows []sessionRow
	if err := r.db.WithContext(ctx).Raw(`SELECT "sid", "uid", "token", "expires" FROM "web_session" WHERE "sid" = ?`, sid).Scan(&rows).Error; err != nil {
		return nil, Internal("load session", err)
	}
	if len(rows) == 0 {
		return nil, ErrSessionExpired
	}
	row := rows[0]
	exp, err := time.Parse(DatetimeFormat, row.Expires)
	if err != nil || time.Now().UTC().After(exp) {
		_ = r.forgetSession(ctx, sid)
		return nil, ErrSessionExpired
	}
	u, err := r.loadCreds(ctx, `"id" = ?`, row.UID)
	if err != nil {
		return nil, err
	}
	if u == nil || !u.Active || r.sessionToken(u) != row.Token {
		_ = r.forgetSession(ctx, sid)
		return nil, ErrSessionExpired
	}
	return &Session{SID: row.SID, UID: row.UID, Login: u.Login, Expires: exp}, nil
}

// DeleteSession logs a session out, and tells the bus (ChannelAccess) so
// that the session's open sockets close.
func (r *Registry) DeleteSession(ctx context.Context, sid string) error {
	if err := r.forgetSession(ctx, sid); err != nil {
		return err
	}
	r.Notify(ctx, accessNote)
	return nil
}

// forgetSession deletes a session row; Session uses it for sessions that
// are no longer valid, which nobody needs to hear of.
func (r *Registry) forgetSession(ctx context.Context, sid string) error {
	if err := r.db.WithContext(ctx).Exec(`DELETE FROM "web_session" WHERE "sid" = ?`, sid).Error; err != nil {
		return Internal("delete session", err)
	}
	return nil
}

// PurgeSessions deletes expired sessions.
func (r *Registry) PurgeSessions(ctx context.Context) error {
	now := time.Now().UTC().Format(DatetimeFormat)
	return r.db.WithContext(ctx).Exec(`DELETE FROM "web_session" WHERE "expires" < ?`, now).Error
}

// UserContext returns the context Odoo clients get after login:
// {lang, tz, uid}.
func (r *Registry) UserContext(ctx context.Context, uid int64) (map[string]any, error) {
	var rows []struct {
		Lang string
		Tz   string
	}
	if err := r.db.WithContext(ctx).Raw(`SELECT COALESCE("lang", '') AS lang, COALESCE("tz", '') AS tz FROM "res_users" WHERE "id" = ?`, uid).Scan(&rows).Error; err != nil {
		return nil, Internal("load user context", err)
	}
	if len(rows) == 0 {
		return nil, MissingErrorf("Record does not exist or has been deleted.\n(Record: res.users(%d,), User: %d)", uid, uid)
	}
	c := map[string]any{"lang": rows[0].Lang, "tz": any(false), "uid": uid}
	if rows[0].Lang == "" {
		c["lang"] = "en_US"
	}
	if rows[0].Tz != "" {
		c["tz"] = rows[0].Tz
	}
	return c, nil
}

// SessionInfo returns the session_info dict of /web/session/authenticate
// and get_session_info for uid (Odoo 16 keys a client needs).
func (r *Registry) SessionInfo(ctx context.Context, uid int64, db string, version map[string]any) (*Dict, error) {
	uc, err := r.UserContext(ctx, uid)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Name  string
		Login string
	}
	if err := r.db.WithContext(ctx).Raw(`SELECT "name", "login" FROM "res_users" WHERE "id" = ?`, uid).Scan(&rows).Error; err != nil {
		return nil, Internal("load user", err)
	}
	if len(rows) == 0 {
		return nil, ErrSessionExpired
	}
	var isSystem, internal bool
	_ = r.Read(ctx, uid, nil, func(env *Env) error {
		isSystem, internal = env.HasGroup(GroupSystem), env.HasGroup(GroupUser)
		return nil
	})
	d := NewDict(32)
	d.Set("uid", uid)
	d.Set("is_system", isSystem)
	d.Set("is_admin", isSystem)
	d.Set("user_context", uc)
	d.Set("db", db)
	d.Set("server_version", version["server_version"])
	d.Set("server_version_info", version["server_version_info"])
	d.Set("support_url", "https://www.odoo.com/buy")
	d.Set("name", rows[0].Name)
	d.Set("username", rows[0].Login)
	d.Set("partner_display_name", rows[0].Name)
	d.Set("company_id", int64(1))
	d.Set("partner_id", uid)
	d.Set("web.base.url", "")
	d.Set("active_ids_limit", int64(20000))
	// No profiling session: Odoo's request.session.profile_* are None.
	d.Set("profile_session", nil)
	d.Set("profile_collectors", nil)
	d.Set("profile_params", nil)
	d.Set("max_file_upload_size", int64(128*1024*1024))
	d.Set("home_action_id", false)
	d.Set("cache_hashes", map[string]any{"translations": "", "load_menus": ""})
	d.Set("currencies", map[string]any{})
	d.Set("bundle_params", map[string]any{"lang": uc["lang"]})
	d.Set("user_companies", map[string]any{"current_company": int64(1), "allowed_companies": map[string]any{"1": map[string]any{"id": int64(1), "name": "My Company", "sequence": int64(10)}}})
	d.Set("show_effect", true)
	d.Set("display_switch_company_menu", false)
	sessionInfoAddons(d, uid, internal, isSystem)
	return d, nil
}

// sessionInfoAddons adds the keys the modules installed with the addon's
// Odoo (mail, mail_bot, partner_autocomplete, web_tour) put in
// session_info, with the values a fresh Odoo 16 database gives, under the
// same conditions: nothing here has an inbox, an OdooBot, a company to
// enrich or a tour.
func sessionInfoAddons(d *Dict, uid int64, internal, admin bool) {
	d.Set("user_id", uid) // as get_frontend_session_info gives it
	if internal {
		d.Set("notification_type", "email") // res.users default (mail)
		d.Set("odoobot_initialized", false) // odoobot_state 'not_initialized' (mail_bot)
		d.Set("iap_company_enrich", false)  // no company enrichment offered (partner_autocomplete)
	}
	if admin {
		d.Set("web_tours", []any{})  // no tour consumed (web_tour)
		d.Set("tour_disable", false) // no module with demo data
	}
}
