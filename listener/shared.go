package listener

// Shared groups (mqtt.broker.shared_group, issue 12's hot brokers). A
// broker with a shared group is ingested by every instance of a cluster
// at once: each instance's daemon connects with a client id of its own
// (daemonClientID) and subscribes every filter as $share/<group>/<filter>
// (sharedClient), so the broker hands each message to one member of the
// group. The broker's owner still carries the calls that need one
// connection (publish, check_connection; subscribe and unsubscribe first
// go there for the caller's answer), and every other instance then
// resubscribes from the records (resubscribe).
//
// Received messages carry their plain topic (MQTT 5 §4.8.2): they are
// routed to the subscription records by the plain filters, which is what
// the routes, the device filters and the session's bookkeeping hold;
// only the wire sees the $share form.

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// sharedPrefix starts a shared subscription's filter.
const sharedPrefix = "$share/"

// sharedFilter is a filter's form on the wire for group ("": itself). A
// record's own shared subscription ($share/<its group>/...) keeps its
// group: a filter cannot be in two.
func sharedFilter(group, f string) string {
	if group == "" || strings.HasPrefix(f, sharedPrefix) {
		return f
	}
	return sharedPrefix + group + "/" + f
}

// sharedClient subscribes and unsubscribes every filter in a shared
// group, and answers under the plain filters it was given.
type sharedClient struct {
	client
	group string
}

// withSharedGroup puts c behind sharedClient when group is set.
func withSharedGroup(c client, group string) client {
	if group == "" {
		return c
	}
	return sharedClient{client: c, group: group}
}

func (c sharedClient) subscribe(ctx context.Context, filters map[string]filter) (map[string]error, error) {
	wire := make(map[string]filter, len(filters))
	for f, o := range filters {
		// No Local on a shared subscription is a protocol error
		// (MQTT-3.8.3-4); client_v5 drops it for $share filters.
		wire[sharedFilter(c.group, f)] = o
	}
	res, err := c.client.subscribe(ctx, wire)
	if err != nil {
		return nil, err
	}
	out := make(map[string]error, len(filters))
	for f := range filters {
		out[f] = res[sharedFilter(c.group, f)]
	}
	return out, nil
}

func (c sharedClient) unsubscribe(ctx context.Context, topic string) error {
	return c.client.unsubscribe(ctx, sharedFilter(c.group, topic))
}

// shared reports whether the broker's daemon runs on every instance: it
// has a shared group and there is a cluster to share it with.
func (s *Service) shared(cfg mqttmodel.BrokerConfig) bool {
	return cfg.SharedGroup != "" && s.opts.Cluster != nil
}

// daemonClientID is the client id a daemon connects with: the broker's,
// or for a shared broker in a cluster the broker's, a dash and this
// instance's id, as two connections with one client id take each other's
// place. Alone, a shared broker keeps the broker's client id (and its
// persistent session). MQTT 3.1 allows 23 bytes at most: there the base
// is shortened.
func (s *Service) daemonClientID(cfg mqttmodel.BrokerConfig) string {
	if !s.shared(cfg) {
		return cfg.ClientID
	}
	return instanceClientID(cfg, s.opts.Cluster.Self().ID)
}

// instanceClientID is cfg's client id for instance.
func instanceClientID(cfg mqttmodel.BrokerConfig, instance int64) string {
	suffix := "-" + strconv.FormatInt(instance, 10)
	base := cfg.ClientID
	if cfg.Protocol == mqttmodel.ProtocolV31 {
		base = base[:max(0, min(len(base), 23-len(suffix)))]
	}
	return base + suffix
}

// runsHere reports whether this instance runs the broker's daemon: when
// alone or owning it, and for a shared broker once this instance is
// registered (its client id needs the instance's id).
func (s *Service) runsHere(cfg mqttmodel.BrokerConfig) bool {
	if s.shared(cfg) {
		return s.opts.Cluster.Self().ID != 0
	}
	return s.owns(cfg.ID)
}

// sharedBroker reports whether a broker is shared in this cluster, from
// its running daemon or else its record.
func (s *Service) sharedBroker(ctx context.Context, brokerID int64) bool {
	if s.opts.Cluster == nil {
		return false
	}
	if d := s.daemons.running(brokerID); d != nil {
		return d.cfg.SharedGroup != ""
	}
	cfgs, err := s.store.BrokerConfigs(ctx, brokerID)
	return err == nil && len(cfgs) == 1 && cfgs[0].SharedGroup != ""
}

// subscriptionsChanged follows a Subscribe or Unsubscribe of a shared
// broker once the owner answered: this instance's daemon, unless it is
// the owner's, and every other instance's (the announcement) resubscribe
// from the records.
func (s *Service) subscriptionsChanged(ctx context.Context, brokerID int64) {
	if !s.sharedBroker(ctx, brokerID) {
		return
	}
	if s.forwards(brokerID) {
		if d := s.daemons.running(brokerID); d != nil {
			d.resubscribe(ctx)
		}
	}
	s.announce(ctx, brokerID)
}

// resubscribe brings the live connection's subscriptions in line with
// the enabled records: first unsubscribes the filters subscribed on this
// connection that no record nor device discovery wants any more, then
// subscribes every record (a SUBSCRIBE of a filter the session has
// replaces it). In that order, once a connection receives a new filter's
// messages it no longer receives the old one's. Without a connection
// nothing is needed: the next one subscribes the records.
func (d *daemon) resubscribe(ctx context.Context) {
	sess := d.current()
	if sess == nil {
		return
	}
	subs, err := d.s.store.EnabledSubscriptions(ctx, d.cfg.ID)
	if err != nil {
		d.log.Warn("Unable to load the subscriptions", slog.Any("error", err))
		return
	}
	wanted := make(map[string]bool, len(subs))
	for _, sub := range subs {
		wanted[sub.Topic] = true
	}
	for _, f := range d.wantedDeviceFilters(subs) {
		wanted[f] = true
	}
	for _, f := range sess.userFilters() {
		if wanted[f] {
			continue
		}
		uctx, cancel := withDefaultTimeout(ctx, subackTimeout)
		err := sess.client.unsubscribe(uctx, f)
		cancel()
		if err != nil {
			d.log.Warn("Unable to unsubscribe", slog.String("topic", f), slog.Any("error", err))
			continue
		}
		sess.setUserFilter(f, false)
	}
	d.subscribeAll(ctx, sess)
}

// leaveGroup ends a shared daemon's persistent session at the broker when
// this instance shuts down. Its client id names this instance, which
// never comes back (a restarted server registers anew), and a broker
// keeps handing a share of the group's messages to a member whose
// session it keeps (Mosquitto 2 queues them for it): they would wait
// there, for nobody, until the session expires. A connection with the
// same client id and a clean session ends it; the other instances then
// get those messages. (An instance that dies without shutting down
// cannot: the broker's owner drains and ends its session, drain.go.)
// Messages this instance stored but could not acknowledge any more are
// stored already. Stopping the service keeps
// the sessions: the same instances resume them when it starts again.
func (d *daemon) leaveGroup(clientID string) {
	if !d.s.shared(d.cfg.BrokerConfig) || d.cfg.CleanSession {
		return
	}
	if err := d.s.endSession(context.Background(), d.cfg.BrokerConfig, clientID); err != nil {
		d.log.Warn("Unable to end this instance's session of the shared group; the broker keeps queueing a share of the messages for it until it expires",
			slog.String("client_id", clientID), slog.Any("error", err))
		return
	}
	d.log.Info("Ended this instance's session of the shared group", slog.String("client_id", clientID))
}
