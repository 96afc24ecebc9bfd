package models

import (
	"context"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
)

// iot.device's methods over RPC: action(data), what an IoT box's
// /hw_drivers/action does for a DeviceProxy, and push_config(config).
// Like the MQTT buttons they wait on the broker, so they run outside a
// transaction, after the same preamble (write access, records exist).
func init() {
	actionMethods["iot.device"] = map[string]*Method{
		"action":      {Kind: RecordLevel, OwnTransactions: true, Params: []Param{{Name: "data", Optional: true}}, Fn: deviceAction},
		"push_config": {Kind: RecordLevel, OwnTransactions: true, Params: []Param{{Name: "config"}}, Fn: devicePushConfig},
	}
}

// deviceAction has each device's driver turn data (a dict, or a JSON
// string as /hw_drivers/action passes it) into messages, publishes them
// and waits for the broker's acknowledgement. True once sent.
func deviceAction(env *Env, ids []int64, a Args) (any, error) {
	ctl, err := env.control()
	if err != nil {
		return nil, err
	}
	data, err := iot.ParseActionData(a.Get("data"))
	if err != nil {
		return nil, ValueErrorf("%v", err)
	}
	_, recs, err := actionRecords(env, "iot.device", ids)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		cfg, dev, err := deviceTarget(env, rec)
		if err != nil {
			return nil, err
		}
		drv := env.reg.deviceDrivers().ByName(rec.Str("driver"))
		if drv == nil {
			drv = env.reg.deviceDrivers().Driver(dev)
		}
		pubs, err := drv.Action(dev, data)
		if err != nil {
			return nil, UserErrorf("%s: %v", rec.Str("name"), err)
		}
		if err := publishForDevice(env, ctl, cfg, pubs, "Device action failed"); err != nil {
			return nil, err
		}
	}
	return true, nil
}

// devicePushConfig publishes config (a dict or JSON text) retained on
// each device's config topic, where the device reads it when it wakes
// (seed 002). True once the broker has it.
func devicePushConfig(env *Env, ids []int64, a Args) (any, error) {
	ctl, err := env.control()
	if err != nil {
		return nil, err
	}
	_, recs, err := actionRecords(env, "iot.device", ids)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		cfg, dev, err := deviceTarget(env, rec)
		if err != nil {
			return nil, err
		}
		pub, err := iot.ConfigMessage(dev.Patterns, dev.Identifier, a.Get("config"))
		if err != nil {
			return nil, UserErrorf("%s: %v", rec.Str("name"), err)
		}
		if err := publishForDevice(env, ctl, cfg, []iot.Publish{pub}, "Pushing the configuration failed"); err != nil {
			return nil, err
		}
	}
	return true, nil
}

// deviceTarget is the broker a device is reached through and the device
// as its driver sees it.
func deviceTarget(env *Env, rec *Record) (BrokerConfig, iot.Device, error) {
	cfgs, err := env.reg.BrokerConfigs(env.Ctx, rec.Int("broker_id"))
	if err != nil {
		return BrokerConfig{}, iot.Device{}, err
	}
	if len(cfgs) == 0 {
		return BrokerConfig{}, iot.Device{}, UserErrorf("%s: the device has no broker.", rec.Str("name"))
	}
	return cfgs[0], deviceOf(rec, cfgs[0].Devices.Patterns), nil
}

// publishForDevice publishes in order, each waiting for its
// acknowledgement, and records what was sent in the send history, as
// action_send_mqtt does.
func publishForDevice(env *Env, ctl BrokerControl, cfg BrokerConfig, pubs []iot.Publish, failure string) error {
	var sent []HistoryRow
	var perr error
	for _, p := range pubs {
		ctx, cancel := context.WithTimeout(env.Ctx, sendTimeout)
		perr = ctl.Publish(ctx, cfg, OutgoingMessage{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain})
		cancel()
		if perr != nil {
			break
		}
		sent = append(sent, HistoryRow{BrokerID: cfg.ID, Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain,
			Direction: "send", Timestamp: time.Now()})
	}
	if err := env.reg.InsertHistory(env.Ctx, sent); err != nil {
		return err
	}
	env.reg.NotifyHistory(env.Ctx, sent)
	if perr != nil {
		return UserErrorf("%s: %v", failure, perr)
	}
	return nil
}
