package iotbox

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonrpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
)

// maxSessionID bounds the client-chosen listener session_id (a uuid).
const maxSessionID = 128

// pollParams are the parameters of /hw_drivers/event.
type pollParams struct {
	session string          // the listener's session_id
	last    float64         // last_event: time of the last event the client saw
	devices map[string]bool // device identifiers it listens to
}

// parsePoll reads {"listener": {session_id, last_event, devices}}; other
// members of listener ("rpc", "abortController") are client noise.
func parsePoll(p map[string]json.RawMessage) (*pollParams, *jsonrpc.Error) {
	var l struct {
		Session *string                    `json:"session_id"`
		Last    *float64                   `json:"last_event"`
		Devices map[string]json.RawMessage `json:"devices"`
	}
	raw := p["listener"]
	if len(raw) == 0 || raw[0] != '{' {
		return nil, badParams("listener must be an object")
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, badParams("listener: session_id must be a string, last_event a number, devices an object: " + err.Error())
	}
	if l.Session == nil || *l.Session == "" || len(*l.Session) > maxSessionID {
		return nil, badParams("listener.session_id must be a non-empty string")
	}
	pp := &pollParams{session: *l.Session, devices: make(map[string]bool, len(l.Devices))}
	if l.Last != nil {
		pp.last = *l.Last
	}
	for id := range l.Devices {
		pp.devices[id] = true
	}
	return pp, nil
}

// serveEvent is POST /hw_drivers/event, the long poll.
func (b *Box) serveEvent(w http.ResponseWriter, r *http.Request, req *jsonrpc.Request, uid int64) {
	ctx := r.Context()
	if err := b.mayListen(ctx, uid); err != nil {
		b.writeFailure(w, r, req.ID, err)
		return
	}
	p, e := parsePoll(req.Params)
	if e != nil {
		writeBadParams(w, req.ID, e)
		return
	}
	abort, done, err := b.listeners.start(listenerKey{uid: uid, sid: p.session}, b.now())
	if err != nil {
		b.writeFailure(w, r, req.ID, err)
		return
	}
	defer func() { done(b.now()) }()

	timer := time.NewTimer(b.opts.PollTimeout)
	defer timer.Stop()
	var seq uint64
	for waited := false; ; waited = true {
		ev, next, wake := b.ring.next(p.last, seq, b.nowSec(), p.devices)
		if ev != nil {
			// A poll waits up to PollTimeout: the caller's rights, checked
			// when it began, may have gone since.
			if waited {
				if err := b.stillListening(r, uid); err != nil {
					b.writeFailure(w, r, req.ID, err)
					return
				}
			}
			writeEvent(w, req.ID, ev, p.session)
			return
		}
		seq = next
		select {
		case <-wake:
		case <-ctx.Done():
			return // the client is gone: nobody reads an answer
		case <-timer.C:
			jsonrpc.WriteResult(w, req.ID, nil)
			return
		case <-abort:
			// A newer poll of the same listener started: the client
			// aborted this one.
			jsonrpc.WriteResult(w, req.ID, nil)
			return
		case <-b.stopped:
			jsonrpc.WriteResult(w, req.ID, nil)
			return
		}
	}
}

// mayListen refuses a caller who may not read devices.
func (b *Box) mayListen(ctx context.Context, uid int64) error {
	if !b.reg.CanSubscribe(ctx, uid, iotdevice.ChannelDevices) {
		return models.AccessErrorf("You are not allowed to access 'IoT Device' (%s) records.", deviceModel)
	}
	return nil
}

// stillListening checks again, before a waiting poll answers with an
// event, that r's caller is still uid (the session is still valid, the
// public user still the same) and may still read devices.
func (b *Box) stillListening(r *http.Request, uid int64) error {
	now, err := b.caller(r)
	if err != nil {
		return err
	}
	if now != uid {
		return models.ErrSessionExpired
	}
	return b.mayListen(r.Context(), uid)
}

// writeEvent sends ev as the result, with the listener's session_id, which
// the client checks against its own.
func writeEvent(w http.ResponseWriter, id []byte, ev *event, session string) {
	sid, _ := json.Marshal(session)
	b := jsonrpc.Head(id)
	b = append(b, `,"result":`...)
	b = append(b, ev.body...)
	b = append(b, `,"session_id":`...)
	b = append(b, sid...)
	b = append(b, '}', '}') // closes the event (ev.body is left open) and the envelope
	jsonrpc.WriteBody(w, http.StatusOK, b)
}
