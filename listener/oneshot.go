package listener

import (
	"context"
	"fmt"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// CheckConnection opens a fresh connection with cfg, waits for the CONNACK
// within cfg.ConnectTimeout, and disconnects. The error says why the
// broker refused (the CONNACK return code, or MQTT 5 reason code) or
// could not be reached.
func (s *Service) CheckConnection(ctx context.Context, cfg mqttmodel.BrokerConfig) error {
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
// so the subscription ends with the connection.
func (s *Service) SubscribeOnce(ctx context.Context, cfg mqttmodel.BrokerConfig, sub mqttmodel.SubscriptionConfig) error {
	c, err := s.dial(ctx, cfg, "sub")
	if err != nil {
		return err
	}
	defer c.disconnect()
	res, err := c.subscribe(ctx, map[string]filter{sub.Topic: subscriptionFilter(sub)})
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
func (s *Service) Publish(ctx context.Context, cfg mqttmodel.BrokerConfig, m mqttmodel.OutgoingMessage) error {
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
