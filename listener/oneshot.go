package listener

import (
	"context"
	"errors"
	"fmt"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// CheckConnection opens a fresh connection with cfg, waits for the CONNACK
// within cfg.ConnectTimeout, and disconnects. The error says why the
// broker refused (the CONNACK return code, or MQTT 5 reason code) or
// could not be reached. In a cluster the broker's owner checks, with its
// settings; with no owner (the broker runs nowhere) this instance does,
// on its own short-lived connection.
func (s *Service) CheckConnection(ctx context.Context, cfg mqttmodel.BrokerConfig) error {
	if s.forwards(cfg.ID) {
		if err := s.forward(ctx, cfg.ID, callCheck, callArgs{}); !errors.Is(err, ErrNoOwner) {
			return err
		}
	}
	return s.checkConnection(ctx, cfg)
}

func (s *Service) checkConnection(ctx context.Context, cfg mqttmodel.BrokerConfig) error {
	c, err := s.dial(ctx, cfg, "check")
	if err != nil {
		return err
	}
	c.disconnect()
	return nil
}

// SubscribeOnce subscribes sub on a short-lived connection with cfg and
// waits for the SUBACK: the broker's own answer, for the Subscribe button
// when no connected daemon carries the subscription. The session is clean,
// so the subscription ends with the connection. In a cluster the broker's
// owner subscribes, as CheckConnection checks.
func (s *Service) SubscribeOnce(ctx context.Context, cfg mqttmodel.BrokerConfig, sub mqttmodel.SubscriptionConfig) error {
	if s.forwards(cfg.ID) {
		if err := s.forward(ctx, cfg.ID, callSubscribeOnce, callArgs{Subscription: toWireSubscription(sub)}); !errors.Is(err, ErrNoOwner) {
			return err
		}
	}
	return s.subscribeOnce(ctx, cfg, sub)
}

func (s *Service) subscribeOnce(ctx context.Context, cfg mqttmodel.BrokerConfig, sub mqttmodel.SubscriptionConfig) error {
	c, err := s.dial(ctx, cfg, "sub")
	if err != nil {
		return err
	}
	defer c.disconnect()
	// The daemons' form of the filter, so the broker answers for it.
	res, err := withSharedGroup(c, cfg.SharedGroup).subscribe(ctx, map[string]filter{sub.Topic: subscriptionFilter(sub)})
	if err == nil {
		err = res[sub.Topic]
	}
	return err
}

// Publish sends a message through the broker's connected daemon, or else
// through a short-lived connection, and at QoS 1/2 waits for the
// PUBACK/PUBCOMP until ctx's deadline. On MQTT 5 the message's properties
// go with it, and a PUBACK reason code of 0x80 or more is an error (0x10,
// No matching subscribers, is not).
//
// In a cluster, a broker this instance does not own publishes through its
// owner, which answers with the PUBACK's outcome. With no live owner (the
// broker runs nowhere) this instance sends on a short-lived connection of
// its own, as it does alone with the service stopped; an owner that does
// not answer in time is an error (ErrForwardTimeout), not a reason to
// send a second time: it may have sent already.
func (s *Service) Publish(ctx context.Context, cfg mqttmodel.BrokerConfig, m mqttmodel.OutgoingMessage) error {
	if s.forwards(cfg.ID) {
		err := s.forward(ctx, cfg.ID, callPublish, callArgs{Message: toWireMessage(m)})
		if !errors.Is(err, ErrNoOwner) {
			if err != nil && forwardFailed(err) {
				return fmt.Errorf("publish on %q at QoS %d: %w", m.Topic, m.QoS, err)
			}
			return err // the owner's error names the topic already
		}
	}
	return s.publish(ctx, cfg, m)
}

func (s *Service) publish(ctx context.Context, cfg mqttmodel.BrokerConfig, m mqttmodel.OutgoingMessage) error {
	var c client
	if d := s.daemons.running(cfg.ID); d != nil {
		if sess := d.current(); sess != nil {
			c = sess.client
		}
	}
	if c == nil {
		var err error
		if c, err = s.dial(ctx, cfg, "pub"); err != nil {
			return err
		}
		defer c.disconnect()
	}
	ctx, cancel := withDefaultTimeout(ctx, subackTimeout)
	defer cancel()
	if err := c.publish(ctx, m); err != nil {
		return fmt.Errorf("publish on %q at QoS %d: %w", m.Topic, m.QoS, err)
	}
	s.daemons.entry(cfg.ID, cfg.Name).out.Add(1)
	s.m.sent.WithLabelValues(brokerLabel(cfg.ID)).Inc()
	return nil
}

// dial connects a short-lived client with a unique client id, so it never
// takes the daemon's place on the broker. It acknowledges and drops what
// it receives.
func (s *Service) dial(ctx context.Context, cfg mqttmodel.BrokerConfig, purpose string) (client, error) {
	return connectClient(ctx, cfg, uniqueClientID(cfg, purpose), false, clientHooks{helper: s.goHelper})
}
