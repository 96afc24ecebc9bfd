package bus

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Rights are checked when a socket subscribes, but a socket lives for
// hours: a user whose MQTT group is removed, who is archived, deleted, or
// whose password changed, must stop hearing notes at once, not at the
// next reconnect. The registry says that rights changed with a note on
// models.ChannelAccess after the commit; the note travels like any other
// (through bus_batch in PostgreSQL mode, so every instance hears it), and
// watchAccess re-checks every open socket on it: the channels a user may no
// longer read are dropped from the socket's subscription, and a socket
// whose session is no longer valid is closed with 4001. It also re-checks
// every AccessCheckInterval, for what no note announces: a session
// expiring, another process writing the database without a bus.

// watchAccess re-checks the open sockets on every access note and every
// AccessCheckInterval, until ctx ends.
func (b *Bus) watchAccess(ctx context.Context) {
	tick := time.NewTicker(b.opts.AccessCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-b.accessKick:
		}
		b.recheckSockets(ctx)
	}
}

// kickAccess asks watchAccess for a re-check; kicks coalesce, and one
// arriving during a re-check causes another, since that re-check may have
// read the rights before the change.
func (b *Bus) kickAccess() {
	select {
	case b.accessKick <- struct{}{}:
	default:
	}
}

// withoutAccessNotes returns notes without those on models.ChannelAccess
// (for the bus itself, never buffered nor fanned out), and whether there
// were any.
func withoutAccessNotes(notes []Note) ([]Note, bool) {
	i := slices.IndexFunc(notes, func(n Note) bool { return n.Channel == models.ChannelAccess })
	if i < 0 {
		return notes, false
	}
	return slices.DeleteFunc(slices.Clone(notes), func(n Note) bool { return n.Channel == models.ChannelAccess }), true
}

// addSocket and removeSocket keep the set of open sockets watchAccess
// re-checks.
func (b *Bus) addSocket(s *socket) {
	b.sockMu.Lock()
	defer b.sockMu.Unlock()
	b.sockets[s] = struct{}{}
}

func (b *Bus) removeSocket(s *socket) {
	b.sockMu.Lock()
	defer b.sockMu.Unlock()
	delete(b.sockets, s)
}

// recheckSockets asks the registry, in one call per set of routes, what
// the sessions of the open sockets may still do, and acts on the answer.
// A database error keeps the sockets as they are (it is not the clients'
// fault); the next re-check tries again.
func (b *Bus) recheckSockets(ctx context.Context) {
	bySessions := map[*endpoints][]*socket{}
	b.sockMu.Lock()
	for s := range b.sockets {
		if s.sid != "" { // anonymous sockets may read none of our channels
			bySessions[s.b] = append(bySessions[s.b], s)
		}
	}
	b.sockMu.Unlock()
	for e, socks := range bySessions {
		sids := make([]string, len(socks))
		for i, s := range socks {
			sids[i] = s.sid
		}
		grants, err := e.auth.SessionGrants(ctx, sids)
		if err != nil {
			if ctx.Err() == nil {
				b.log.WarnContext(ctx, "Unable to re-check the rights of open WebSockets", slog.Any("error", err))
			}
			continue
		}
		for _, s := range socks {
			g, ok := grants[s.sid]
			if !ok || g.UID != s.uid {
				s.log.InfoContext(ctx, "WebSocket closed: its session is no longer valid")
				s.closeWith(CloseSessionExpired, "session expired")
				continue
			}
			s.grant(g.Channels)
		}
	}
}

// grant hands the writer the channels the socket's user may read now,
// replacing a set it has not taken yet (only watchAccess sends, so the
// drain-then-send cannot race another sender).
func (s *socket) grant(channels map[string]bool) {
	select {
	case <-s.grants:
	default:
	}
	s.grants <- channels
}

// narrow is the writer's side of grant: when sub listens to channels no
// longer allowed, it is replaced by a subscription to the others resuming
// at pos, so nothing is lost or repeated on the channels that stay. It
// returns the subscription to use.
func (s *socket) narrow(ctx context.Context, sub *Subscription, pos int64, allowed map[string]bool) *Subscription {
	if sub == nil {
		return nil
	}
	keep := make([]string, 0, len(sub.list))
	var dropped []string
	for _, c := range sub.list {
		if allowed[c] {
			keep = append(keep, c)
		} else {
			dropped = append(dropped, c)
		}
	}
	if len(dropped) == 0 {
		return sub
	}
	s.log.InfoContext(ctx, "WebSocket channels dropped: access revoked", slog.Any("channels", dropped))
	sub.Close()
	return s.b.Subscribe(keep, pos)
}
