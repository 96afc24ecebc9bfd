package main

// A /hw_drivers/event listener as DeviceProxy runs one (Odoo's
// iot_longpolling): poll, take the one event the answer carries, poll
// again with last_event set to that event's time. The poll returns at once
// while newer events are buffered, else waits for the next one (up to 50
// s, then answers with no result).

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"
)

// pollEvent is what the bench reads of a device event.
type pollEvent struct {
	DeviceIdentifier string          `json:"device_identifier"`
	Time             json.RawMessage `json:"time"` // sent back as last_event exactly as received
	SessionID        string          `json:"session_id"`
	Value            struct {
		Seq  *int64  `json:"seq"`
		Sent float64 `json:"sent"` // nanoseconds, through a float64 in the server: ±256 ns
	} `json:"value"`
}

// pollStats counts one poller's requests.
type pollStats struct {
	polls, events, empty, errors atomic.Int64
	lastErr                      atomic.Pointer[error]
}

// pollDevice polls for device's events until ctx ends, recording the
// bench's messages in rec.
func pollDevice(ctx context.Context, c *webClient, session, device string, rec *recorder, st *pollStats) {
	last := json.RawMessage("0")
	for ctx.Err() == nil {
		var ev pollEvent
		params := map[string]any{"listener": map[string]any{"session_id": session, "last_event": last, "devices": map[string]any{device: map[string]any{}}}}
		st.polls.Add(1)
		err := c.jsonRPC(ctx, "/hw_drivers/event", params, &ev)
		at := time.Now()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			st.errors.Add(1)
			st.lastErr.Store(&err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		case ev.DeviceIdentifier == "":
			st.empty.Add(1) // the 50 s timeout: no event
			continue
		case ev.DeviceIdentifier != device || ev.SessionID != session:
			err := errors.New("event for " + ev.DeviceIdentifier + " / session " + ev.SessionID + " on the poll of " + device + " / " + session)
			st.errors.Add(1)
			st.lastErr.Store(&err)
		}
		st.events.Add(1)
		if len(ev.Time) > 0 {
			last = ev.Time
		}
		if ev.Value.Seq != nil {
			rec.record(*ev.Value.Seq, int64(ev.Value.Sent), at)
		}
	}
}
