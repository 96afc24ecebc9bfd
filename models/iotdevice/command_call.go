package iotdevice

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// commandParams are the parameters of call and call_async.
var commandParams = []models.Param{
	{Name: "name"},
	{Name: "params", Optional: true},
	{Name: "timeout", Optional: true, Default: int64(DefaultCommandTimeout)},
	{Name: "persistent", Optional: true, Default: false},
}

// deviceCall is iot.device.call(name, params, timeout, persistent): it
// sends a command to one device and waits for the answer, which it
// returns decoded. A UserError says the command failed or timed out; the
// iot.command row records it either way.
func (a *Addon) deviceCall(env *models.Env, ids []int64, args models.Args) (any, error) {
	id, err := a.startCommand(env, ids, args)
	if err != nil {
		return nil, err
	}
	return a.awaitCommand(env.Ctx, id)
}

// deviceCallAsync is call without the wait: it returns the command's id
// once created (and sent, unless it waits for its device), and the
// command's status changes on its own, told on the bus (NoteCommand).
// A publish that failed leaves the command failed, not an error.
func (a *Addon) deviceCallAsync(env *models.Env, ids []int64, args models.Args) (any, error) {
	return a.startCommand(env, ids, args)
}

// startCommand checks the call, creates its command and sends it, unless
// it is persistent and the device offline (then it stays pending).
func (a *Addon) startCommand(env *models.Env, ids []int64, args models.Args) (int64, error) {
	req, err := parseCommandArgs(args)
	if err != nil {
		return 0, err
	}
	if len(ids) != 1 {
		return 0, models.ExpectedSingleton("iot.device", ids)
	}
	ctl, _, recs, err := a.mqtt.ControlledRecords(env, "iot.device", ids)
	if err != nil {
		return 0, err
	}
	if !ctl.ServiceRunning() {
		return 0, models.UserErrorf("The MQTT listener service is not running: it receives the devices' answers. Start it first.")
	}
	rec := recs[0]
	target, err := a.commandTarget(env, rec)
	if err != nil {
		return 0, err
	}
	wait := req.persistent && !rec.Bool("connected")
	vals := map[string]any{
		"device_id": rec.ID, "broker_id": rec.Int("broker_id"), "name": req.name, "params": string(req.params),
		"timeout": req.timeout, "persistent": req.persistent, "correlation_id": newRequestID(),
	}
	id, err := a.createCommand(env, vals, wait)
	if err != nil || wait {
		return id, err
	}
	return id, a.sendCommand(env.Ctx, ctl, target, id)
}

// commandRequest is a call's arguments, checked.
type commandRequest struct {
	name       string
	params     []byte // JSON
	timeout    int64  // seconds
	persistent bool
}

// parseCommandArgs checks a call's arguments: a method name, params that
// make JSON (none: {}), a timeout of 1 to MaxCommandTimeout seconds.
func parseCommandArgs(args models.Args) (commandRequest, error) {
	var r commandRequest
	name, _ := args.Get("name").(string)
	if r.name = strings.TrimSpace(name); r.name == "" {
		return r, models.ValueErrorf("call: name must be the command's method, a non-empty string, not %s", py.Repr(args.Get("name")))
	}
	params := args.Get("params")
	if params == nil {
		params = map[string]any{}
	}
	var err error
	if r.params, err = json.Marshal(params); err != nil {
		return r, models.ValueErrorf("call: params must make JSON: %v", err)
	}
	switch t := args.Get("timeout").(type) {
	case int64:
		r.timeout = t
	case float64:
		r.timeout = int64(math.Ceil(t))
	case nil:
		r.timeout = DefaultCommandTimeout
	default:
		return r, models.ValueErrorf("call: timeout must be a number of seconds, not %s", py.Repr(t))
	}
	if r.timeout < 1 || r.timeout > MaxCommandTimeout {
		return r, models.ValueErrorf("call: timeout must be 1 to %d seconds, not %d", MaxCommandTimeout, r.timeout)
	}
	switch p := args.Get("persistent").(type) {
	case bool:
		r.persistent = p
	case nil:
	default:
		return r, models.ValueErrorf("call: persistent must be True or False, not %s", py.Repr(p))
	}
	return r, nil
}

// commandTarget is the broker a device's commands go through and its
// patterns, refused with a UserError when they cannot carry commands.
func (a *Addon) commandTarget(env *models.Env, rec *models.Record) (commandTarget, error) {
	cfg, dev, err := a.deviceTarget(env, rec)
	if err != nil {
		return commandTarget{}, err
	}
	topics, _, err := a.BrokerTopics(env.Ctx, cfg.ID)
	if err != nil {
		return commandTarget{}, err
	}
	t := commandTarget{cfg: cfg, patterns: topics.Patterns, identifier: dev.Identifier}
	return t, t.check(topics.Discovery)
}

// commandTarget is where one device's commands go.
type commandTarget struct {
	cfg        mqtt.BrokerConfig
	patterns   iot.Patterns
	identifier string
}

func (t commandTarget) check(discovery bool) error {
	name := py.Repr(t.cfg.Name)
	switch {
	case !discovery:
		return models.UserErrorf("Broker %s has device discovery off: the devices' answers to commands come in through it. Turn on Discover devices.", name)
	case t.patterns.Request == "" || t.patterns.Response == "":
		return models.UserErrorf("Broker %s has no device request or response topic: set both to send commands.", name)
	case t.cfg.Protocol != mqtt.ProtocolV5 && !t.patterns.RequestIDInTopics():
		return models.UserErrorf("Broker %s speaks MQTT 3.1/3.1.1, where a message carries no Correlation Data: "+
			"its device request and response topics both need {request_id}.", name)
	}
	return nil
}

// requestPayload is what a device receives.
func requestPayload(name, params string) []byte {
	p := json.RawMessage(params)
	if !json.Valid(p) {
		p = json.RawMessage("{}") // a command edited by hand
	}
	b, err := json.Marshal(struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}{name, p})
	if err != nil {
		panic(fmt.Sprintf("iotdevice: marshal a request: %v", err)) // a string and valid JSON always marshal
	}
	return b
}
