package iotdevice

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// commandResponse is a message on a broker's response topic.
type commandResponse struct {
	match   iot.Match
	corr    []byte // MQTT 5 Correlation Data, nil without
	payload []byte
	at      time.Time
}

// requestID is the command a response answers: its Correlation Data
// when it has some (MQTT 5), else the {request_id} of its topic.
func (r commandResponse) requestID() string {
	if len(r.corr) > 0 {
		return string(r.corr)
	}
	return r.match.RequestID
}

// completeCommands applies responses in su's transaction: each completes
// the sent command of its request id, when that command is the broker's
// and its device's (the topic's {id}): succeeded with the answer, or
// failed when the answer is not JSON. A response to no such command, or
// to one already finished (a late answer to a timed-out command, a
// duplicate), is logged and ignored.
func (a *Addon) completeCommands(su *models.Env, brokerID int64, responses []commandResponse) error {
	m := su.Registry().Model("iot.command")
	for _, r := range responses {
		reqID := r.requestID()
		log := a.log.With(slog.Int64("broker_id", brokerID), slog.String("device", r.match.DeviceID), slog.String("request_id", reqID))
		if reqID == "" || !utf8.ValidString(reqID) {
			log.Info("Command response without a request id ignored")
			continue
		}
		ids, err := su.Search(m, []any{[]any{"correlation_id", "=", reqID}, []any{"broker_id", "=", brokerID}}, 0, 1, "id")
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			log.Info("Response to no known command ignored")
			continue
		}
		recs, err := su.Load(m, ids, "device_id", "status")
		if err != nil || len(recs) == 0 {
			return err
		}
		cmd := recs[0]
		devs, err := su.Load(su.Registry().Model("iot.device"), []int64{cmd.Int("device_id")}, "identifier")
		if err != nil {
			return err
		}
		if len(devs) == 0 || devs[0].Str("identifier") != r.match.DeviceID {
			log.Warn("Command response from another device than the command's ignored", slog.Int64("command_id", cmd.ID))
			continue
		}
		if st := cmd.Str("status"); st != StatusSent {
			log.Info("Response to a command that is not waiting for one ignored", slog.Int64("command_id", cmd.ID), slog.String("status", st))
			continue
		}
		vals := map[string]any{"answered_at": r.at}
		if text, ok := jsonAnswer(r.payload); ok {
			vals["status"], vals["response"] = StatusSucceeded, text
		} else {
			vals["status"], vals["error"] = StatusFailed, "The answer is not JSON: "+py.Repr(shorten(safeText(string(r.payload)), 200))
		}
		moved, err := a.moveCommand(su, cmd.ID, []string{StatusSent}, vals)
		if err != nil {
			return err
		}
		if !moved {
			log.Info("Response to a command finished meanwhile ignored", slog.Int64("command_id", cmd.ID))
		}
	}
	return nil
}

// jsonAnswer is a payload's JSON text, trimmed; ok is false when the
// payload is not one JSON value of valid UTF-8.
func jsonAnswer(payload []byte) (string, bool) {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || !utf8.Valid(p) || !json.Valid(p) {
		return "", false
	}
	return string(p), true
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
