package iotbox

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
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
func parsePoll(p map[string]json.RawMessage) (*pollParams, *rpcError) {
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
func (b *Box) serveEvent(w http.ResponseWriter, r *http.Request) {
	req, e := readRequest(w, r, b.opts.MaxBody)
	if e != nil {
		writeError(w, nil, e)
		return
	}
	ctx := r.Context()
	uid, err := b.caller(r)
	if err != nil {
		writeError(w, req.id, describe(ctx, b.log, err))
		return
	}
	if !b.reg.CanSubscribe(ctx, uid, models.ChannelDevices) {
		err := models.AccessErrorf("You are not allowed to access 'IoT Device' (%s) records.", deviceModel)
		writeError(w, req.id, describe(ctx, b.log, err))
		return
	}
	p, e := parsePoll(req.params)
	if e != nil {
		writeError(w, req.id, e)
		return
	}
	abort, done, err := b.listeners.start(listenerKey{uid: uid, sid: p.session}, b.now())
	if err != nil {
		writeError(w, req.id, describe(ctx, b.log, err))
		return
	}
	defer func() { done(b.now()) }()

	timer := time.NewTimer(b.opts.PollTimeout)
	defer timer.Stop()
	var seq uint64
	for {
		ev, next, wake := b.ring.next(p.last, seq, b.nowSec(), p.devices)
		if ev != nil {
			writeEvent(w, req.id, ev, p.session)
			return
		}
		seq = next
		select {
		case <-wake:
		case <-ctx.Done():
			return // the client is gone: nobody reads an answer
		case <-timer.C:
			writeEnvelope(w, http.StatusOK, req.id, nil)
			return
		case <-abort:
			// A newer poll of the same listener started: the client
			// aborted this one.
			writeEnvelope(w, http.StatusOK, req.id, nil)
			return
		case <-b.stopped:
			writeEnvelope(w, http.StatusOK, req.id, nil)
			return
		}
	}
}

// writeEvent sends ev as the result, with the listener's session_id, which
// the client checks against its own.
func writeEvent(w http.ResponseWriter, id json.RawMessage, ev *event, session string) {
	sid, _ := json.Marshal(session)
	member := make([]byte, 0, len(ev.body)+len(sid)+32)
	member = append(member, `"result":`...)
	member = append(member, ev.body...)
	member = append(member, `,"session_id":`...)
	member = append(member, sid...)
	member = append(member, '}')
	writeEnvelope(w, http.StatusOK, id, member)
}
