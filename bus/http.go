package bus

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/websession"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Route patterns, as chi and net/http's ServeMux read them.
const (
	RouteWebSocket      = "GET /websocket"
	RoutePeek           = "POST /websocket/peek_notifications"
	RouteUpdatePresence = "POST /websocket/update_bus_presence"
	RouteHealth         = "GET /websocket/health"
)

// Sessions is what the bus's routes ask of the record layer: whose a
// session is, whether that user may read a channel, and what many open
// sessions may still read (the re-check of access.go).
// *models.Registry implements it.
type Sessions interface {
	Session(ctx context.Context, sid string) (*models.Session, error)
	CanSubscribe(ctx context.Context, uid int64, channel string) bool
	SessionGrants(ctx context.Context, sids []string) (map[string]models.SessionGrant, error)
}

// endpoints is the bus as its HTTP routes see it: the bus, and the
// sessions that say who is calling.
type endpoints struct {
	*Bus
	auth Sessions
}

// Routes returns the bus's HTTP handlers keyed by method and path pattern
// ("GET /websocket"), checking callers with auth; mount each with chi's
// Router.Handle or an http.ServeMux.
func (b *Bus) Routes(auth Sessions) map[string]http.Handler {
	e := &endpoints{Bus: b, auth: auth}
	return map[string]http.Handler{
		RouteWebSocket:      http.HandlerFunc(e.serveWebSocket),
		RoutePeek:           http.HandlerFunc(e.servePeek),
		RouteUpdatePresence: http.HandlerFunc(e.servePresence),
		RouteHealth:         http.HandlerFunc(serveHealth),
	}
}

// session returns the valid session of r: models.ErrSessionExpired when
// there is none.
func (b *endpoints) session(ctx context.Context, r *http.Request) (*models.Session, error) {
	sid := websession.ID(r)
	if sid == "" {
		return nil, models.ErrSessionExpired
	}
	return b.auth.Session(ctx, sid)
}

// allowedChannels keeps the channels uid may read, once each, in order; as
// in Odoo, the others are dropped without a word. Anonymous users (uid 0)
// may read none of ours.
func (b *endpoints) allowedChannels(ctx context.Context, uid int64, channels []string) []string {
	out := []string{}
	if uid == 0 {
		return out
	}
	for _, c := range channels {
		if !slices.Contains(out, c) && b.auth.CanSubscribe(ctx, uid, c) {
			out = append(out, c)
		}
	}
	return out
}

// servePeek is /websocket/peek_notifications, the polling fallback: the
// buffered notes above last on the allowed channels, without waiting.
// Unlike Odoo, which lets a public session poll once it flagged itself with
// is_first_poll, it requires a logged-in session: all our channels need one.
func (b *endpoints) servePeek(w http.ResponseWriter, r *http.Request) {
	req, sess, ok := b.startRPC(w, r)
	if !ok {
		return
	}
	if err := jsonrpc.Bind("peek_notifications", req.Params, []string{"channels", "last"}, []string{"is_first_poll"}); err != nil {
		b.writeRPCFailure(w, r, http.StatusOK, req.ID, err)
		return
	}
	channels, err := stringList(req.Params["channels"])
	if err != nil {
		b.writeRPCFailure(w, r, http.StatusOK, req.ID, models.ValueErrorf("bus.Bus only string channels are allowed."))
		return
	}
	last, err := lastID(req.Params["last"])
	if err != nil {
		b.writeRPCFailure(w, r, http.StatusOK, req.ID, models.TypeErrorf("last must be a notification id (an integer)"))
		return
	}
	allowed := b.allowedChannels(r.Context(), sess.UID, channels)
	notes := b.Since(allowed, last)
	chans, _ := json.Marshal(allowed) // strings: cannot fail
	out := make([]byte, 0, 64+len(chans)+len(notes)*256)
	out = append(out, `{"channels":`...)
	out = append(out, chans...)
	out = append(out, `,"notifications":`...)
	out = appendWire(out, notes)
	jsonrpc.WriteResult(w, req.ID, append(out, '}'))
}

// servePresence is /websocket/update_bus_presence: accepted and ignored
// (this server tracks no presence), for a logged-in session.
func (b *endpoints) servePresence(w http.ResponseWriter, r *http.Request) {
	req, _, ok := b.startRPC(w, r)
	if !ok {
		return
	}
	jsonrpc.WriteResult(w, req.ID, []byte(`{}`))
}

// startRPC does what every helper route does first: origin check, body,
// envelope, session. On failure it has answered.
func (b *endpoints) startRPC(w http.ResponseWriter, r *http.Request) (*jsonrpc.Request, *models.Session, bool) {
	if !b.origins.Trusted(r) {
		b.writeRPCFailure(w, r, http.StatusForbidden, nil,
			models.AccessErrorf("Cross-origin request refused: %s is not an allowed origin.", r.Header.Get("Origin")))
		return nil, nil, false
	}
	req, ok := b.readRPC(w, r)
	if !ok {
		return nil, nil, false
	}
	sess, err := b.session(r.Context(), r)
	if err != nil {
		if !errors.Is(err, models.ErrSessionExpired) {
			b.log.ErrorContext(r.Context(), "Unable to check a bus session", slog.Any("error", err))
		}
		b.writeRPCFailure(w, r, http.StatusOK, req.ID, models.ErrSessionExpired)
		return nil, nil, false
	}
	return req, sess, true
}

// serveHealth is /websocket/health, which load balancers poll.
func serveHealth(w http.ResponseWriter, _ *http.Request) {
	jsonrpc.WriteBody(w, http.StatusOK, []byte(`{"status":"pass"}`))
}

// appendWire appends notes as the JSON array the client reads.
func appendWire(b []byte, notes []Note) []byte {
	b = append(b, '[')
	for i, n := range notes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n.wire...)
	}
	return append(b, ']')
}

// errNotStrings: a channel list with something else than strings.
var errNotStrings = errors.New("bus: channels must be strings")

// stringList decodes a JSON list of strings ([] for null or absent).
func stringList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, errNotStrings
	}
	return out, nil
}

// lastID decodes a notification id: an integer (or an integral float, as
// JavaScript may send), 0 for null or absent.
func lastID(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, errors.New("bus: last is not an integer")
	}
	return int64(f), nil
}
