package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// mqtt.broker.action_publish: publish anything on a broker, without a
// subscription or a signal first (MQTT Explorer's Publish). It goes the
// way action_send_mqtt goes, BrokerControl.Publish: the broker's daemon
// (forwarded to its owner in a cluster) or a one-shot connection when the
// service is stopped, waiting for the PUBACK/PUBCOMP at QoS 1/2; the
// message is kept in Send History once the broker took it.

// publishParams are action_publish's parameters after the ids.
var publishParams = []models.Param{
	{Name: "topic"},
	{Name: "payload", Optional: true, Default: ""},
	{Name: "encoding", Optional: true, Default: EncodingText},
	{Name: "qos", Optional: true, Default: int64(0)},
	{Name: "retain", Optional: true, Default: false},
	{Name: "properties", Optional: true, Default: false},
}

func (a *Addon) brokerPublish(env *models.Env, ids []int64, args models.Args) (any, error) {
	if len(ids) != 1 {
		return nil, models.ExpectedSingleton("mqtt.broker", ids)
	}
	ctl, _, _, err := a.ControlledRecords(env, "mqtt.broker", ids)
	if err != nil {
		return nil, err
	}
	cfgs, err := a.BrokerConfigs(env.Ctx, ids[0])
	if err != nil || len(cfgs) == 0 {
		return nil, models.UserErrorf("Not found Broker!")
	}
	cfg := cfgs[0]
	msg, err := publishMessage(args, cfg.Protocol == ProtocolV5)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(env.Ctx, SendTimeout)
	perr := ctl.Publish(ctx, cfg, msg)
	cancel()
	if perr != nil {
		return nil, models.UserErrorf("Publish failed: %v", perr)
	}
	if err := a.RecordSent(env.Ctx, cfg.ID, time.Now(), msg); err != nil {
		return nil, err
	}
	return notification("Published", fmt.Sprintf("%d bytes on %s at QoS %d%s.", len(msg.Payload), msg.Topic, msg.QoS,
		map[bool]string{true: ", retained", false: ""}[msg.Retain]), "success"), nil
}

// publishMessage checks and decodes action_publish's arguments; every
// error is a ValidationError naming the argument.
func publishMessage(args models.Args, v5 bool) (OutgoingMessage, error) {
	var msg OutgoingMessage
	t, ok := py.Str(args.Get("topic"))
	if !ok || t == "" {
		return msg, models.ValidationErrorf("Topic: a topic name is required.")
	}
	if err := topic.ValidateName(t); err != nil {
		return msg, models.ValidationErrorf("Topic: %v", err)
	}
	payload := ""
	if v := args.Get("payload"); !py.IsFalse(v) {
		if payload, ok = py.Str(v); !ok {
			return msg, models.ValidationErrorf("Payload: text expected, got %s.", py.TypeName(v))
		}
	}
	enc, _ := py.Str(args.Get("encoding"))
	if py.IsFalse(args.Get("encoding")) {
		enc = EncodingText
	}
	body, err := DecodePayload(payload, enc)
	if err != nil {
		return msg, models.ValidationErrorf("Payload (%s): %v.", enc, err)
	}
	qos, ok := py.Int(args.Get("qos"))
	if !ok || qos < 0 || qos > 2 {
		return msg, models.ValidationErrorf("QoS: %s is not a QoS level (0, 1 or 2).", py.Repr(args.Get("qos")))
	}
	props, err := publishProperties(args.Get("properties"))
	if err != nil {
		return msg, err
	}
	if !v5 && !propsEmpty(props) {
		return msg, models.ValidationErrorf("MQTT 5 properties: this broker speaks MQTT 3.1/3.1.1, which has none; set its protocol to MQTT 5 or leave them empty.")
	}
	return OutgoingMessage{Topic: t, Payload: body, QoS: byte(qos), Retain: py.Truthy(args.Get("retain")), Properties: props}, nil
}

func propsEmpty(p Properties) bool {
	return p.ContentType == "" && p.ResponseTopic == "" && len(p.CorrelationData) == 0 && len(p.UserProperties) == 0 && p.MessageExpiry == 0
}

// publishProperties reads the properties argument: False, or a dict of
// content_type, response_topic, correlation_data (text), user_properties
// (a list of [name, value] pairs, or that list as JSON text) and
// message_expiry (seconds).
func publishProperties(v any) (Properties, error) {
	var p Properties
	if py.IsFalse(v) {
		return p, nil
	}
	d, ok := v.(map[string]any)
	if !ok {
		return p, models.ValidationErrorf("MQTT 5 properties: a dict expected, got %s.", py.TypeName(v))
	}
	for k, x := range d {
		if py.IsFalse(x) {
			continue
		}
		switch k {
		case "content_type", "response_topic", "correlation_data":
			s, ok := py.Str(x)
			if !ok {
				return p, models.ValidationErrorf("MQTT 5 properties: %s must be text.", k)
			}
			switch k {
			case "content_type":
				if len(s) > 1024 {
					return p, models.ValidationErrorf("Content type: longer than 1024 bytes.")
				}
				p.ContentType = s
			case "response_topic":
				if err := topic.ValidateName(s); err != nil {
					return p, models.ValidationErrorf("Response topic: %v", err)
				}
				p.ResponseTopic = s
			default:
				p.CorrelationData = []byte(s)
			}
		case "user_properties":
			text, ok := py.Str(x)
			if !ok {
				b, err := json.Marshal(x)
				if err != nil {
					return p, models.ValidationErrorf("User properties: want a list of [name, value] pairs.")
				}
				text = string(b)
			}
			up, err := ParseUserProperties(text)
			if err != nil {
				return p, models.ValidationErrorf("User properties: %v.", err)
			}
			p.UserProperties = up
		case "message_expiry":
			n, ok := py.Int(x)
			if !ok || n < 0 || n > 4294967295 {
				return p, models.ValidationErrorf("Message expiry (s): %s is not a number of seconds (0-4294967295).", py.Repr(x))
			}
			p.MessageExpiry = uint32(n)
		default:
			return p, models.ValidationErrorf("MQTT 5 properties: %s is not one (content_type, response_topic, correlation_data, user_properties, message_expiry).", py.Repr(k))
		}
	}
	return p, nil
}
