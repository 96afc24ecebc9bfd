package listener

import (
	"context"
	"fmt"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// CheckConnection opens a fresh connection with cfg, waits for the CONNACK
// within cfg.ConnectTimeout, and disconnects. The error says why the
// broker refused (the CONNACK return code) or could not be reached.
func (s *Service) CheckConnection(ctx context.Context, cfg mqttmodel.BrokerConfig) error {
	c, err := s.dial(ctx, cfg, "check")
	if err != nil {
		return err
	}
	c.Disconnect(disconnectQuiesce)
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
	defer c.Disconnect(disconnectQuiesce)
	res, err := subscribeOn(ctx, c, map[string]byte{sub.Topic: sub.QoS})
	if err == nil {
		err = res[sub.Topic]
	}
	return err
}

// Publish sends a message through the broker's connected daemon, or else
// through a short-lived connection, and at QoS 1/2 waits for the
// PUBACK/PUBCOMP until ctx's deadline.
func (s *Service) Publish(ctx context.Context, cfg mqttmodel.BrokerConfig, m mqttmodel.OutgoingMessage) error {
	var c mqtt.Client
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
		defer c.Disconnect(disconnectQuiesce)
	}
	ctx, cancel := withDefaultTimeout(ctx, subackTimeout)
	defer cancel()
	if err := waitToken(ctx, c.Publish(m.Topic, m.QoS, m.Retain, m.Payload)); err != nil {
		return fmt.Errorf("publish on %q at QoS %d: %w", m.Topic, m.QoS, err)
	}
	s.daemons.entry(cfg.ID, cfg.Name).out.Add(1)
	s.m.sent.WithLabelValues(brokerLabel(cfg.ID)).Inc()
	return nil
}

// dial connects a short-lived client with a unique client id, so it never
// takes the daemon's place on the broker.
func (s *Service) dial(ctx context.Context, cfg mqttmodel.BrokerConfig, purpose string) (mqtt.Client, error) {
	opts, err := clientOptions(cfg, uniqueClientID(cfg, purpose), false)
	if err != nil {
		return nil, err
	}
	// It reads nothing it receives (retained messages after
	// SubscribeOnce's SUBACK, say), but a handler makes paho acknowledge
	// (and so not pile up) anything a broker sends it.
	opts.SetAutoAckDisabled(false).SetDefaultPublishHandler(func(mqtt.Client, mqtt.Message) {})
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		// paho's connect timeout ends the attempt; disconnect it if it
		// succeeded meanwhile.
		s.goHelper(func() {
			<-tok.Done()
			if tok.Error() == nil {
				c.Disconnect(0)
			}
		})
		return nil, fmt.Errorf("cannot connect to %s: %w", brokerURL(cfg), context.Cause(ctx))
	}
	if err := tok.Error(); err != nil {
		return nil, connectError(brokerURL(cfg), tok, err)
	}
	return c, nil
}
