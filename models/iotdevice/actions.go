package iotdevice

import (
	"context"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// iot.device's methods over RPC: action(data), what an IoT box's
// /hw_drivers/action does for a DeviceProxy, and push_config(config).
// Like the MQTT buttons they wait on the broker, so they run outside a
// transaction, after the same preamble (write access, records exist).

// deviceAction has each device's driver turn data (a dict, or a JSON
// string as /hw_drivers/action passes it) into messages, publishes them
// and waits for the broker's acknowledgement. True once sent.
func (a *Addon) deviceAction(env *models.Env, ids []int64, args models.Args) (any, error) {
	if _, err := a.mqtt.Control(); err != nil {
		return nil, err
	}
	data, err := iot.ParseActionData(args.Get("data"))
	if err != nil {
		return nil, models.ValueErrorf("%v", err)
	}
	return a.eachDevice(env, ids, "Device action failed", func(rec *models.Record, dev iot.Device) ([]iot.Publish, error) {
		drv := a.drivers.ByName(rec.Str("driver"))
		if drv == nil {
			drv = a.drivers.Driver(dev)
		}
		return drv.Action(dev, data)
	})
}

// devicePushConfig publishes config (a dict or JSON text) retained on
// each device's config topic, where the device reads it when it wakes
// (seed 002). True once the broker has it.
func (a *Addon) devicePushConfig(env *models.Env, ids []int64, args models.Args) (any, error) {
	return a.eachDevice(env, ids, "Pushing the configuration failed", func(_ *models.Record, dev iot.Device) ([]iot.Publish, error) {
		pub, err := iot.ConfigMessage(dev.Patterns, dev.Identifier, args.Get("config"))
		return []iot.Publish{pub}, err
	})
}

// eachDevice is the body of the device buttons: the listener service and
// the records (write access, existence), then for each device the
// messages that messages() makes for it, published in order and kept in
// the send history. True once all are sent.
func (a *Addon) eachDevice(env *models.Env, ids []int64, failure string, messages func(*models.Record, iot.Device) ([]iot.Publish, error)) (any, error) {
	ctl, _, recs, err := a.mqtt.ControlledRecords(env, "iot.device", ids)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		cfg, dev, err := a.deviceTarget(env, rec)
		if err != nil {
			return nil, err
		}
		pubs, err := messages(rec, dev)
		if err != nil {
			return nil, models.UserErrorf("%s: %v", rec.Str("name"), err)
		}
		if err := a.publish(env, ctl, cfg, pubs, failure); err != nil {
			return nil, err
		}
	}
	return true, nil
}

// deviceTarget is the broker a device is reached through and the device
// as its driver sees it.
func (a *Addon) deviceTarget(env *models.Env, rec *models.Record) (mqtt.BrokerConfig, iot.Device, error) {
	none := func(err error) (mqtt.BrokerConfig, iot.Device, error) { return mqtt.BrokerConfig{}, iot.Device{}, err }
	cfgs, err := a.mqtt.BrokerConfigs(env.Ctx, rec.Int("broker_id"))
	if err != nil {
		return none(err)
	}
	topics, ok, err := a.BrokerTopics(env.Ctx, rec.Int("broker_id"))
	if err != nil {
		return none(err)
	}
	if len(cfgs) == 0 || !ok {
		return none(models.UserErrorf("%s: the device has no broker.", rec.Str("name")))
	}
	return cfgs[0], deviceOf(rec, topics.Patterns), nil
}

// publish publishes in order, each waiting for its acknowledgement, and
// records what was sent in the send history, as action_send_mqtt does.
func (a *Addon) publish(env *models.Env, ctl mqtt.BrokerControl, cfg mqtt.BrokerConfig, pubs []iot.Publish, failure string) error {
	var sent []mqtt.OutgoingMessage
	var perr error
	for _, p := range pubs {
		m := mqtt.OutgoingMessage{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
		ctx, cancel := context.WithTimeout(env.Ctx, mqtt.SendTimeout)
		perr = ctl.Publish(ctx, cfg, m)
		cancel()
		if perr != nil {
			break
		}
		sent = append(sent, m)
	}
	if err := a.mqtt.RecordSent(env.Ctx, cfg.ID, time.Now(), sent...); err != nil {
		return err
	}
	if perr != nil {
		return models.UserErrorf("%s: %v", failure, perr)
	}
	return nil
}
