package rpc

import (
	"net/http"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/clientaddr"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/websession"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The /web/session/* and /web/webclient/* routes the web client and
// odoorpc/odooly use to log in and out (odoo/addons/web/controllers/
// session.py and webclient.py, §2.4).

// session returns the logged-in web session of r. A missing cookie or one
// that is not a session id is ignored (Odoo starts a fresh session), which
// on an auth='user' route means "session expired" (JSON code 100).
func (s *server) session(r *http.Request) (*models.Session, error) {
	sid := websession.ID(r)
	if sid == "" {
		return nil, models.ErrSessionExpired
	}
	return s.reg.Session(r.Context(), sid)
}

// setSessionCookie sends sid the way Odoo does (HttpOnly, Path=/,
// Max-Age), plus SameSite=Lax, and Secure when the request came over TLS,
// to us or, in proxy mode, to a trusted proxy (clientaddr.Secure).
func (s *server) setSessionCookie(c *jsonCall, sid string) {
	http.SetCookie(c.w, &http.Cookie{
		Name:     websession.Cookie,
		Value:    sid,
		Path:     "/",
		MaxAge:   int(s.opts.SessionMaxAge.Seconds()),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   clientaddr.Secure(c.r),
	})
	c.cookie = true
}

// ensureCookie hands out an anonymous session id when the request has none,
// as any Odoo JSON route with save_session does (odooly and odoorpc keep it
// in their cookie jar). It is not stored: only a login creates a session.
func (s *server) ensureCookie(c *jsonCall) {
	if !c.cookie && websession.ID(c.r) == "" {
		s.setSessionCookie(c, models.NewSessionID())
	}
}

func webVersionInfo(s *server, c *jsonCall) (any, error) {
	return versionInfo(), nil
}

// webAuthenticate is /web/session/authenticate: an interactive login (no
// API keys), throttled (authThrottle), that rotates the session id.
func webAuthenticate(s *server, c *jsonCall) (any, error) {
	ctx := c.r.Context()
	if db, ok := c.params["db"].(string); !ok || db != s.opts.DBName {
		return nil, models.AccessErrorf("%s", msgDBNotFound)
	}
	login, _ := c.params["login"].(string)
	uid, err := s.authenticate(ctx, login, secret(c.params["password"]), true)
	if err != nil {
		return nil, err
	}
	sess, err := s.reg.NewSession(ctx, uid, s.opts.SessionMaxAge)
	if err != nil {
		return nil, err
	}
	info, err := s.reg.SessionInfo(ctx, uid, s.opts.DBName, versionMap())
	if err != nil {
		_ = s.reg.DeleteSession(ctx, sess.SID)
		return nil, err
	}
	if old := websession.ID(c.r); old != "" {
		// The previous id must not stay usable: rotating is what defeats
		// session fixation.
		_ = s.reg.DeleteSession(ctx, old)
	}
	s.setSessionCookie(c, sess.SID)
	return info, nil
}

func webGetSessionInfo(s *server, c *jsonCall) (any, error) {
	return s.reg.SessionInfo(c.r.Context(), c.session.UID, s.opts.DBName, versionMap())
}

// webCheck has no result: getting past the session check is the answer.
func webCheck(s *server, c *jsonCall) (any, error) {
	return nil, nil
}

// webDestroy logs out; like Odoo's logout it rotates the cookie to a fresh
// anonymous id.
func webDestroy(s *server, c *jsonCall) (any, error) {
	if err := s.reg.DeleteSession(c.r.Context(), c.session.SID); err != nil {
		return nil, err
	}
	s.setSessionCookie(c, models.NewSessionID())
	return nil, nil
}

func webModules(s *server, c *jsonCall) (any, error) {
	return installedModules, nil
}

func webLangList(s *server, c *jsonCall) (any, error) {
	return langList, nil
}

func webDatabaseList(s *server, c *jsonCall) (any, error) {
	return s.databases()
}
