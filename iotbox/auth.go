package iotbox

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/websession"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// caller returns the user r runs as: the user of a valid session cookie
// (the first that names a live session); else, for a request from an
// allowed origin, Options.PublicUser; else ErrSessionExpired (JSON-RPC
// code 100), as Odoo answers an auth='user' route without a session. Cross-site requests from other origins were
// already refused by the CSRF check.
func (b *Box) caller(r *http.Request) (int64, error) {
	ctx := r.Context()
	for _, sid := range websession.IDs(r) {
		s, err := b.reg.Session(ctx, sid)
		if err == nil {
			return s.UID, nil
		}
		if !errors.Is(err, models.ErrSessionExpired) {
			return 0, err
		}
	}
	if _, listed := b.origins.Listed(r); listed && b.opts.PublicUser != "" {
		return b.publicUser(ctx)
	}
	return 0, models.ErrSessionExpired
}

// publicUser returns the uid of Options.PublicUser, looked up on every
// request so that archiving or renaming the user takes effect at once. A
// login that does not exist (or is archived) is logged and treated as no
// user at all.
func (b *Box) publicUser(ctx context.Context) (int64, error) {
	res, err := b.reg.Execute(ctx, models.Call{
		UID: models.Superuser, Model: "res.users", Method: "search",
		Args: []any{[]any{[]any{"login", "=", b.opts.PublicUser}}}, Kwargs: map[string]any{"limit": int64(1)},
	})
	if err != nil {
		return 0, err
	}
	ids, _ := res.([]int64)
	if len(ids) == 0 {
		b.log.WarnContext(ctx, "IoT public user does not exist", slog.String("login", b.opts.PublicUser))
		return 0, models.ErrSessionExpired
	}
	return ids[0], nil
}
