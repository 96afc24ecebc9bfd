package iotdevice

import (
	"context"
	"log/slog"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// createCommand creates a command, pending, in a transaction of its own
// (committed before anything is published, so that the fastest answer
// finds it). A command left waiting for its device wakes the worker,
// which sends it if the device came online meanwhile.
func (a *Addon) createCommand(env *models.Env, vals map[string]any, wait bool) (int64, error) {
	var id int64
	err := a.reg.Transaction(env.Ctx, env.UID, env.Context, func(tx *models.Env) error {
		su := tx.Sudo()
		m := su.Registry().Model("iot.command")
		var err error
		if id, err = su.Create(m, vals); err != nil {
			return err
		}
		recs, err := su.Load(m, []int64{id}, commandFields...)
		if err != nil || len(recs) == 0 {
			return err
		}
		su.NotifyAfterCommit(commandNote(recs[0]))
		if wait {
			su.AfterCommit(a.wakeCommands)
		}
		return nil
	})
	return id, err
}

// sendCommand publishes pending command id through target. It first
// claims the command (pending -> sent, committed), so that it goes out
// once however many senders race for it and an answer arriving before
// the PUBACK finds it sent; a publish that fails then makes it failed.
// On MQTT 5 the request carries the response topic and the request id
// as Correlation Data. The request is kept in the send history.
func (a *Addon) sendCommand(ctx context.Context, ctl mqtt.BrokerControl, target commandTarget, id int64) error {
	rec, err := a.loadCommand(ctx, id)
	if err != nil || rec == nil || rec.Str("status") != StatusPending {
		return err
	}
	corr := rec.Str("correlation_id")
	reqTopic, err := target.patterns.RequestTopic(target.identifier, corr)
	if err != nil {
		_, ferr := a.moveCommandNow(ctx, id, []string{StatusPending}, map[string]any{"status": StatusFailed, "error": err.Error()})
		return ferr
	}
	respTopic, err := target.patterns.ResponseTopic(target.identifier, corr)
	if err != nil {
		_, ferr := a.moveCommandNow(ctx, id, []string{StatusPending}, map[string]any{"status": StatusFailed, "error": err.Error()})
		return ferr
	}
	now := time.Now()
	claimed, err := a.moveCommandNow(ctx, id, []string{StatusPending}, map[string]any{"status": StatusSent, "sent_at": now, "request_topic": reqTopic})
	if err != nil || !claimed {
		return err
	}
	msg := mqtt.OutgoingMessage{Topic: reqTopic, Payload: requestPayload(rec.Str("name"), rec.Str("params")), QoS: 1}
	if target.cfg.Protocol == mqtt.ProtocolV5 {
		msg.Properties = mqtt.Properties{ResponseTopic: respTopic, CorrelationData: []byte(corr)}
	}
	pctx, cancel := context.WithTimeout(ctx, mqtt.SendTimeout)
	perr := ctl.Publish(pctx, target.cfg, msg)
	cancel()
	if perr != nil {
		a.log.Info("Command not published", slog.Int64("command_id", id), slog.String("topic", reqTopic), slog.Any("error", perr))
		_, err := a.moveCommandNow(ctx, id, []string{StatusSent}, map[string]any{"status": StatusFailed, "error": "Not published: " + perr.Error()})
		return err
	}
	return a.mqtt.RecordSent(ctx, target.cfg.ID, now, msg)
}
