package iotdevice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// commandRecheck is how often a waiting call re-reads its command: an
// answer ingested by another instance sharing the database wakes no one
// here.
const commandRecheck = 2 * time.Second

// awaitCommand waits for command id to finish, up to its timeout counted
// from its creation, and returns its answer decoded; a UserError when it
// failed or timed out (the caller's timeout moves it to timed_out). The
// waiter is woken as soon as a change commits in this process.
func (a *Addon) awaitCommand(ctx context.Context, id int64) (any, error) {
	woken, stop := a.waiters.wait(id)
	defer stop()
	rec, err := a.loadCommand(ctx, id)
	if err != nil || rec == nil {
		return nil, commandGone(err)
	}
	deadline := commandDeadline(rec)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	recheck := time.NewTicker(commandRecheck)
	defer recheck.Stop()
	for !finished(rec.Str("status")) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-woken:
		case <-recheck.C:
		case <-timer.C:
			if _, err := a.expireCommand(ctx, id, rec.Int("timeout")); err != nil {
				return nil, err
			}
		}
		if rec, err = a.loadCommand(ctx, id); err != nil || rec == nil {
			return nil, commandGone(err)
		}
	}
	return commandResult(rec)
}

// commandGone is err, or the UserError of a command deleted while its
// call waited.
func commandGone(err error) error {
	if err != nil {
		return err
	}
	return models.UserErrorf("The command was deleted while waiting for its answer.")
}

// commandDeadline is when a command times out: its timeout after its
// creation (create_date is stored to the second: the caller's wait may
// be up to a second shorter than the timeout).
func commandDeadline(rec *models.Record) time.Time {
	return rec.Time("create_date").Add(time.Duration(rec.Int("timeout")) * time.Second)
}

// expireCommand times command id out unless it finished meanwhile.
func (a *Addon) expireCommand(ctx context.Context, id, timeout int64) (bool, error) {
	return a.moveCommandNow(ctx, id, []string{StatusPending, StatusSent}, map[string]any{
		"status": StatusTimedOut, "error": fmt.Sprintf("No answer within %d s.", timeout)})
}

// commandResult is what call returns for a finished command.
func commandResult(rec *models.Record) (any, error) {
	name := rec.Str("name")
	switch rec.Str("status") {
	case StatusSucceeded:
		v, err := decodeJSON([]byte(rec.Str("response")))
		if err != nil {
			return nil, models.UserErrorf("Command %s: the stored response is not JSON: %v", name, err)
		}
		return v, nil
	case StatusTimedOut:
		return nil, models.UserErrorf("Command %s timed out: %s Is the device online, and does it answer on its response topic?", name, rec.Str("error"))
	default:
		return nil, models.UserErrorf("Command %s failed: %s", name, rec.Str("error"))
	}
}

// decodeJSON reads a JSON value into RPC values as Python's json module
// would: integers as int64, other numbers as float64.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("text after the JSON value")
	}
	return plainNumbers(v), nil
}

func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case []any:
		for i := range x {
			x[i] = plainNumbers(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	}
	return v
}
