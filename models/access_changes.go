package models

import (
	"context"
	"slices"
	"time"
)

// Rights that changed must reach what is already open: a /websocket
// subscribed while the user could read a channel, a long poll waiting for
// a device event. The engine cannot close those (it knows nothing of
// HTTP); it says that rights changed, on the bus, once the change is
// committed, and answers, for many sessions at once, what each may still
// read. The bus re-checks its sockets on that note, on every instance
// (the note travels like any other), and every few seconds anyway for
// changes it could not hear of (another process writing the database
// without a bus, an expiry).

// ChannelAccess is the engine's own bus channel: a note of type
// NoteAccessChanged on it says that users, groups, API keys or sessions
// changed. No model carries it, so no client may subscribe to it
// (CanSubscribe); the bus reads it itself.
const ChannelAccess = "base.access"

// NoteAccessChanged is the type of the notes on ChannelAccess.
const NoteAccessChanged = "access_changed"

// accessNote is the notification sent when rights changed.
var accessNote = Notification{Channel: ChannelAccess, Type: NoteAccessChanged}

// noteAccessChange queues, for after the commit, the note that rights
// changed, and a second invalidation of the credential cache: a reader
// between touch's invalidation and the commit cached the old groups.
func (e *Env) noteAccessChange() {
	reg, ctx := e.reg, e.Ctx
	e.AfterCommit(func() {
		reg.auth.invalidate()
		reg.Notify(ctx, accessNote)
	})
}

// SessionGrant is what a live web session may do on the bus: whose it is
// and which channels that user may read.
type SessionGrant struct {
	UID      int64
	Channels map[string]bool
}

// sessionChunk bounds the ids of one IN list (SQLite's variable limit).
const sessionChunk = 500

// SessionGrants returns, for each of sids that names a valid session
// (unexpired, its user active and with the credentials it logged in
// with), its user and the channels the user may read. Invalid sessions
// are absent. It costs two queries for any number of sessions, which is
// what lets the bus re-check every open socket every few seconds.
func (r *Registry) SessionGrants(ctx context.Context, sids []string) (map[string]SessionGrant, error) {
	valid := make([]string, 0, len(sids))
	for _, s := range sids {
		if ValidSessionID(s) && !slices.Contains(valid, s) {
			valid = append(valid, s)
		}
	}
	out := make(map[string]SessionGrant, len(valid))
	groups := map[int64]map[string]bool{}
	now := time.Now().UTC()
	for chunk := range slices.Chunk(valid, sessionChunk) {
		var rows []struct {
			SID      string `gorm:"column:sid"`
			UID      int64  `gorm:"column:uid"`
			Token    string `gorm:"column:token"`
			Expires  string `gorm:"column:expires"`
			Login    string `gorm:"column:login"`
			Password string `gorm:"column:password"`
			Active   bool   `gorm:"column:active"`
		}
		err := r.db.WithContext(ctx).Raw(`SELECT s."sid", s."uid", s."token", s."expires", u."login", COALESCE(u."password", '') AS password, u."active"
			FROM "web_session" s JOIN "res_users" u ON u."id" = s."uid" WHERE s."sid" IN ?`, chunk).Scan(&rows).Error
		if err != nil {
			return nil, Internal("load sessions", err)
		}
		for _, row := range rows {
			exp, err := time.Parse(DatetimeFormat, row.Expires)
			u := &userCreds{ID: row.UID, Login: row.Login, Password: row.Password, Active: row.Active}
			if err != nil || now.After(exp) || !u.Active || r.sessionToken(u) != row.Token {
				continue
			}
			out[row.SID] = SessionGrant{UID: row.UID}
			groups[row.UID] = map[string]bool{}
		}
	}
	if err := r.loadGroupsOf(ctx, groups); err != nil {
		return nil, err
	}
	for sid, g := range out {
		env := &Env{Ctx: ctx, UID: g.UID, Context: map[string]any{}, reg: r, tx: r.db, groups: groups[g.UID]}
		g.Channels = map[string]bool{}
		for ch, m := range r.channels {
			if env.allowed(m, OpRead) {
				g.Channels[ch] = true
			}
		}
		out[sid] = g
	}
	return out, nil
}

// loadGroupsOf fills the effective groups (implied ones included) of the
// users keyed in groups, in one query per chunk of users.
func (r *Registry) loadGroupsOf(ctx context.Context, groups map[int64]map[string]bool) error {
	uids := make([]int64, 0, len(groups))
	for uid := range groups {
		uids = append(uids, uid)
	}
	for chunk := range slices.Chunk(uids, sessionChunk) {
		var rows []struct {
			UID   int64  `gorm:"column:uid"`
			XMLID string `gorm:"column:xml_id"`
		}
		err := r.db.WithContext(ctx).Raw(`SELECT r."res_users_id" AS uid, COALESCE(g."xml_id", '') AS xml_id FROM "res_groups" g
			JOIN "res_groups_res_users_rel" r ON r."res_groups_id" = g."id" WHERE r."res_users_id" IN ?`, chunk).Scan(&rows).Error
		if err != nil {
			return Internal("load groups", err)
		}
		for _, row := range rows {
			groups[row.UID][row.XMLID] = true
		}
	}
	for _, set := range groups {
		r.impliedClosure(set)
	}
	return nil
}
