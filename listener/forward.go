package listener

// Calls for a broker another instance owns (issue 12): publish,
// subscribe, unsubscribe, check_connection and subscribe_once need the
// broker's one connection, or at least its owner's settings, so an
// instance that does not own the broker forwards them (Cluster.Forward)
// and its owner carries them out (forwardedCall) with the broker's
// settings reloaded from the database: the forwarded arguments never
// carry a password, a key or a header, only what the call itself says.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Kinds of forwarded calls.
const (
	callPublish       = "publish"
	callSubscribe     = "subscribe"
	callUnsubscribe   = "unsubscribe"
	callCheck         = "check_connection"
	callSubscribeOnce = "subscribe_once"
)

// forwardTimeout bounds a forwarded call whose context has no deadline.
const forwardTimeout = 30 * time.Second

// callArgs are a forwarded call's arguments, as JSON; each kind sets what
// it needs (check_connection nothing).
type callArgs struct {
	Message      *wireMessage      `json:"message,omitempty"`      // publish
	Subscription *wireSubscription `json:"subscription,omitempty"` // subscribe, subscribe_once
	Topic        string            `json:"topic,omitempty"`        // unsubscribe
}

// wireMessage is an OutgoingMessage with stable names, so that instances
// of neighbouring versions understand each other.
type wireMessage struct {
	Topic           string                   `json:"topic"`
	Payload         []byte                   `json:"payload"`
	QoS             byte                     `json:"qos"`
	Retain          bool                     `json:"retain,omitempty"`
	ContentType     string                   `json:"content_type,omitempty"`
	ResponseTopic   string                   `json:"response_topic,omitempty"`
	CorrelationData []byte                   `json:"correlation_data,omitempty"`
	UserProperties  []mqttmodel.UserProperty `json:"user_properties,omitempty"`
	MessageExpiry   uint32                   `json:"message_expiry,omitempty"`
}

func toWireMessage(m mqttmodel.OutgoingMessage) *wireMessage {
	return &wireMessage{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain, ContentType: m.ContentType,
		ResponseTopic: m.ResponseTopic, CorrelationData: m.CorrelationData, UserProperties: m.UserProperties, MessageExpiry: m.MessageExpiry}
}

func (w *wireMessage) message() mqttmodel.OutgoingMessage {
	return mqttmodel.OutgoingMessage{Topic: w.Topic, Payload: w.Payload, QoS: w.QoS, Retain: w.Retain, Properties: mqttmodel.Properties{
		ContentType: w.ContentType, ResponseTopic: w.ResponseTopic, CorrelationData: w.CorrelationData, UserProperties: w.UserProperties,
		MessageExpiry: w.MessageExpiry}}
}

// wireSubscription is a SubscriptionConfig with stable names.
type wireSubscription struct {
	ID                int64  `json:"id"`
	Topic             string `json:"topic"`
	QoS               byte   `json:"qos"`
	NoLocal           bool   `json:"no_local,omitempty"`
	RetainAsPublished bool   `json:"retain_as_published,omitempty"`
	RetainHandling    byte   `json:"retain_handling,omitempty"`
}

func toWireSubscription(s mqttmodel.SubscriptionConfig) *wireSubscription {
	return &wireSubscription{ID: s.ID, Topic: s.Topic, QoS: s.QoS, NoLocal: s.NoLocal, RetainAsPublished: s.RetainAsPublished, RetainHandling: s.RetainHandling}
}

func (w *wireSubscription) config() mqttmodel.SubscriptionConfig {
	return mqttmodel.SubscriptionConfig{ID: w.ID, Topic: w.Topic, QoS: w.QoS, NoLocal: w.NoLocal, RetainAsPublished: w.RetainAsPublished, RetainHandling: w.RetainHandling}
}

// forwards reports whether calls for the broker go to its owner: in a
// cluster, when this instance does not own it.
func (s *Service) forwards(brokerID int64) bool {
	return s.opts.Cluster != nil && !s.opts.Cluster.Owns(brokerID)
}

// forward carries a call out on the broker's owner. Every kind answers
// with its error only.
func (s *Service) forward(ctx context.Context, brokerID int64, kind string, args callArgs) error {
	body, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("forward %s: %w", kind, err)
	}
	ctx, cancel := withDefaultTimeout(ctx, forwardTimeout)
	defer cancel()
	_, err = s.opts.Cluster.Forward(ctx, brokerID, kind, body)
	return err
}

// forwardFailed reports whether err is the forwarding's own failure (no
// owner, no answer), not an error the owner answered with.
func forwardFailed(err error) bool {
	return errors.Is(err, ErrNoOwner) || errors.Is(err, ErrForwardTimeout)
}

// forwardedCall carries out a call another instance forwarded for a
// broker this instance owns (ClusterHandlers.Call). The broker's settings
// are read from the database, never taken from the call.
func (s *Service) forwardedCall(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error) {
	if s.forwards(brokerID) {
		// Ownership moved since the call was claimed: doing it here would
		// forward it again.
		return nil, fmt.Errorf("%w: this instance no longer owns broker %d", ErrNoOwner, brokerID)
	}
	var args callArgs
	if err := json.Unmarshal(body, &args); err != nil {
		return nil, fmt.Errorf("bad forwarded %s call: %w", kind, err)
	}
	switch kind {
	case callPublish:
		if args.Message == nil {
			return nil, fmt.Errorf("bad forwarded %s call: no message", kind)
		}
		cfg, err := s.ownedConfig(ctx, brokerID)
		if err != nil {
			return nil, err
		}
		return nil, s.publish(ctx, cfg, args.Message.message())
	case callSubscribe, callSubscribeOnce:
		if args.Subscription == nil {
			return nil, fmt.Errorf("bad forwarded %s call: no subscription", kind)
		}
		if kind == callSubscribe {
			return nil, s.subscribe(ctx, brokerID, args.Subscription.config())
		}
		cfg, err := s.ownedConfig(ctx, brokerID)
		if err != nil {
			return nil, err
		}
		return nil, s.subscribeOnce(ctx, cfg, args.Subscription.config())
	case callUnsubscribe:
		if args.Topic == "" {
			return nil, fmt.Errorf("bad forwarded %s call: no topic", kind)
		}
		return nil, s.unsubscribe(ctx, brokerID, args.Topic)
	case callCheck:
		cfg, err := s.ownedConfig(ctx, brokerID)
		if err != nil {
			return nil, err
		}
		return nil, s.checkConnection(ctx, cfg)
	}
	return nil, fmt.Errorf("unknown forwarded call %q", kind)
}

// ownedConfig loads a broker's settings for a forwarded call: ours, with
// the secrets decrypted here.
func (s *Service) ownedConfig(ctx context.Context, brokerID int64) (mqttmodel.BrokerConfig, error) {
	cfgs, err := s.store.BrokerConfigs(ctx, brokerID)
	if err != nil {
		return mqttmodel.BrokerConfig{}, err
	}
	if len(cfgs) == 0 {
		return mqttmodel.BrokerConfig{}, fmt.Errorf("broker %d not found", brokerID)
	}
	if cfgs[0].SecretError != nil {
		return mqttmodel.BrokerConfig{}, cfgs[0].SecretError
	}
	return cfgs[0], nil
}

// clusterHandlers are what this service does with the calls and
// announcements of the other instances.
func (s *Service) clusterHandlers() ClusterHandlers {
	return ClusterHandlers{
		Call:    s.forwardedCall,
		Changed: func(ctx context.Context, brokerID int64) { s.brokerChanged(ctx, brokerID) },
		Drain:   s.drainDead,
	}
}
