package iotbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// deviceModel is the model of the devices the box drives.
const deviceModel = "iot.device"

// actionParams are the parameters of /hw_drivers/action.
type actionParams struct {
	session string          // the client's session_id (a uuid), becomes the device's owner
	device  string          // device_identifier
	data    json.RawMessage // compact JSON: data, decoded if it was a string
}

// parseAction reads {session_id, device_identifier, data}. data is JSON
// text in a string, as the box json.loads it (DeviceProxy sends
// JSON.stringify(data)), or a JSON value already; usually an object.
func parseAction(p map[string]json.RawMessage) (*actionParams, *jsonrpc.Error) {
	a := &actionParams{}
	if raw, ok := p["session_id"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &a.session) != nil {
			return nil, badParams("session_id must be a string")
		}
	}
	if json.Unmarshal(p["device_identifier"], &a.device) != nil || a.device == "" {
		return nil, badParams("device_identifier must be a non-empty string")
	}
	raw := bytes.TrimSpace(p["data"])
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, badParams(msgBadData)
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	var buf bytes.Buffer
	if len(raw) == 0 || string(raw) == "null" || json.Compact(&buf, raw) != nil {
		return nil, badParams(msgBadData)
	}
	a.data = buf.Bytes()
	return a, nil
}

const msgBadData = "data must be JSON text (a string, as DeviceProxy sends it) or a JSON value"

// actionArg is data as iot.device.action takes it: an object as a dict
// (numbers as rpc decodes them), anything else as the JSON text the box
// would have decoded, which the model interprets (a bare string names the
// action).
func (a *actionParams) actionArg() (any, error) {
	if a.data[0] != '{' {
		return string(a.data), nil
	}
	return jsonrpc.DecodeObject(a.data)
}

// serveAction is POST /hw_drivers/action: find the device as the caller,
// drop a repeated iot_idempotent_id, remember the caller as the device's
// owner, and run iot.device.action(data) as the caller.
func (b *Box) serveAction(w http.ResponseWriter, r *http.Request, req *jsonrpc.Request, uid int64) {
	ctx := r.Context()
	p, e := parseAction(req.Params)
	if e != nil {
		writeBadParams(w, req.ID, e)
		return
	}
	res, err := b.reg.Execute(ctx, models.Call{
		UID: uid, Model: deviceModel, Method: "search",
		Args: []any{[]any{[]any{"identifier", "=", p.device}}}, Kwargs: map[string]any{"limit": int64(1)},
	})
	if err != nil {
		b.writeFailure(w, r, req.ID, err)
		return
	}
	ids, _ := res.([]int64)
	if len(ids) == 0 {
		b.writeResult(w, r, req.ID, false)
		return
	}
	data, err := p.actionArg()
	if err != nil { // parseAction checked it: cannot happen
		writeBadParams(w, req.ID, badParams(msgBadData))
		return
	}
	key := ""
	if raw, ok := idempotentID(p.data); ok {
		key = strconv.FormatInt(uid, 10) + "\x00" + p.device + "\x00" + string(raw)
		if !b.actions.claim(key, b.now()) {
			b.writeResult(w, r, req.ID, false)
			return
		}
	}
	b.actions.setOwner(p.device, owner{session: p.session, data: p.data, at: b.now()})
	if _, err := b.reg.Execute(ctx, models.Call{UID: uid, Model: deviceModel, Method: "action", Args: []any{[]any{ids[0]}, data}}); err != nil {
		if key != "" {
			b.actions.release(key)
		}
		b.writeFailure(w, r, req.ID, err)
		return
	}
	b.writeResult(w, r, req.ID, true)
}

// idempotentID returns the compact JSON of data's iot_idempotent_id, if
// it is an object with a non-null one.
func idempotentID(data json.RawMessage) (json.RawMessage, bool) {
	if data[0] != '{' {
		return nil, false
	}
	var m struct {
		ID json.RawMessage `json:"iot_idempotent_id"`
	}
	if json.Unmarshal(data, &m) != nil || len(m.ID) == 0 || string(m.ID) == "null" {
		return nil, false
	}
	return m.ID, true
}
