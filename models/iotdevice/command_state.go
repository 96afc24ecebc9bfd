package iotdevice

import (
	"context"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// commandFields are the columns a command is worked on with.
var commandFields = []string{"device_id", "broker_id", "name", "params", "response", "status", "correlation_id",
	"timeout", "persistent", "request_topic", "create_date", "sent_at", "answered_at", "error"}

// moveCommand changes command id to vals when its status is one of from,
// in su's transaction: the condition makes every change happen once,
// whoever races for it (a response, the caller's timeout, the worker,
// another instance). It reports whether it moved; if so the NoteCommand
// goes out and the command's waiters wake once committed.
func (a *Addon) moveCommand(su *models.Env, id int64, from []string, vals map[string]any) (bool, error) {
	m := su.Registry().Model("iot.command")
	set := make(map[string]any, len(vals)+1)
	for k, v := range vals {
		set[k] = v
	}
	set["write_date"] = time.Now()
	n, err := su.UpdateWhere(m, []any{[]any{"id", "=", id}, []any{"status", "in", anyList(from)}}, set)
	if err != nil || n == 0 {
		return false, err
	}
	recs, err := su.Load(m, []int64{id}, commandFields...)
	if err != nil || len(recs) == 0 {
		return false, err
	}
	su.NotifyAfterCommit(commandNote(recs[0]))
	su.AfterCommit(func() { a.waiters.wake(id) })
	return true, nil
}

// moveCommandNow is moveCommand in a transaction of its own.
func (a *Addon) moveCommandNow(ctx context.Context, id int64, from []string, vals map[string]any) (bool, error) {
	moved := false
	err := a.reg.Transaction(ctx, models.Superuser, nil, func(env *models.Env) error {
		var err error
		moved, err = a.moveCommand(env.Sudo(), id, from, vals)
		return err
	})
	return moved, err
}

// loadCommand reads one command; nil when it is gone.
func (a *Addon) loadCommand(ctx context.Context, id int64) (*models.Record, error) {
	var rec *models.Record
	err := a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		recs, err := env.Sudo().Load(a.reg.Model("iot.command"), []int64{id}, commandFields...)
		if len(recs) == 1 {
			rec = recs[0]
		}
		return err
	})
	return rec, err
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// finished reports whether a status is final.
func finished(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusTimedOut
}

// commandWaiters wakes the calls waiting in this process for a command
// once a change of it committed. A change made by another instance wakes
// nobody here: waiters re-read the database now and then too.
type commandWaiters struct {
	mu sync.Mutex
	m  map[int64]map[chan struct{}]struct{}
}

// wait registers a waiter of command id; stop unregisters it.
func (w *commandWaiters) wait(id int64) (ch chan struct{}, stop func()) {
	ch = make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[int64]map[chan struct{}]struct{}{}
	}
	if w.m[id] == nil {
		w.m[id] = map[chan struct{}]struct{}{}
	}
	w.m[id][ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.m[id], ch)
		if len(w.m[id]) == 0 {
			delete(w.m, id)
		}
	}
}

// wake tells the waiters of command id that it changed.
func (w *commandWaiters) wake(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.m[id] {
		select {
		case ch <- struct{}{}:
		default: // already told
		}
	}
}
