package rules

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// recorder batches the rules' bookkeeping (fire_count, last_fired,
// last_error) and their log rows, which Run writes a few times a second
// in few statements: a rule firing on every message must not cost a
// transaction per firing.
type recorder struct {
	mu    sync.Mutex
	rules map[int64]*ruleDelta
	logs  []logRow
	space chan struct{} // closed when a flush took the rows
	wake  chan struct{}
}

// ruleDelta is what changed of one rule since the last flush.
type ruleDelta struct {
	fired    int64
	last     time.Time
	err      string // the last action's error, "" when it succeeded
	setError bool   // an action was done: err says how
	pause    string // the rate guard paused the rule
}

// logRow is one mqtt.rule.log row.
type logRow struct {
	rule           int64
	at             time.Time
	topic, payload string
	action         string
	err            string // "": done
}

// maxPendingLogs bounds the log rows waiting for a flush: the lanes wait
// past it (the database is the slower side).
const maxPendingLogs = 10000

// flushEvery is the recorder's pace.
const flushEvery = 250 * time.Millisecond

func newRecorder() *recorder {
	return &recorder{rules: map[int64]*ruleDelta{}, space: make(chan struct{}), wake: make(chan struct{}, 1)}
}

func (r *recorder) delta(id int64) *ruleDelta {
	d := r.rules[id]
	if d == nil {
		d = &ruleDelta{}
		r.rules[id] = d
	}
	return d
}

// fired counts a firing.
func (r *recorder) fired(id int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.delta(id)
	d.fired++
	if at.After(d.last) {
		d.last = at
	}
}

// paused records why the rate guard paused a rule, in its last_error,
// which no later action's outcome overwrites (until an edit clears it).
func (r *recorder) paused(id int64, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delta(id).pause = msg
	signal(r.wake)
}

// log queues a log row, waiting while too many are (or ctx ends).
func (r *recorder) log(ctx context.Context, row logRow) {
	for {
		r.mu.Lock()
		if len(r.logs) < maxPendingLogs {
			r.logs = append(r.logs, row)
			d := r.delta(row.rule)
			d.err, d.setError = row.err, true
			r.mu.Unlock()
			return
		}
		space := r.space
		r.mu.Unlock()
		signal(r.wake)
		select {
		case <-ctx.Done():
			return
		case <-space:
		}
	}
}

// take returns and forgets what is pending.
func (r *recorder) take() (map[int64]*ruleDelta, []logRow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rules, logs := r.rules, r.logs
	if len(rules) == 0 && len(logs) == 0 {
		return nil, nil
	}
	r.rules, r.logs = map[int64]*ruleDelta{}, nil
	close(r.space)
	r.space = make(chan struct{})
	return rules, logs
}

// runRecorder flushes until ctx ends, then once more.
func (a *Addon) runRecorder(ctx context.Context) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a.flush(fctx)
			return
		case <-t.C:
		case <-a.work.rec.wake:
		}
		a.flush(ctx)
	}
}

// flush writes what the recorder holds; rows of rules deleted meanwhile
// are left out. A failure is logged, and the rows are lost: bookkeeping
// must not hold the rules up.
func (a *Addon) flush(ctx context.Context) {
	rules, logs := a.work.rec.take()
	if len(rules) == 0 && len(logs) == 0 {
		return
	}
	if err := a.write(ctx, rules, logs); err != nil {
		a.log.Warn("Unable to record the automation rules' firings", slog.Int("log_rows", len(logs)), slog.Any("error", err))
	}
}

func (a *Addon) write(ctx context.Context, rules map[int64]*ruleDelta, logs []logRow) error {
	m := a.reg.Model("mqtt.rule")
	ids := make([]any, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	for _, l := range logs {
		ids = append(ids, l.rule)
	}
	exists := map[int64]bool{}
	err := a.reg.Transaction(ctx, models.Superuser, nil, func(env *models.Env) error {
		su := env.Sudo().WithContext(map[string]any{"active_test": false})
		found, err := su.Search(m, []any{[]any{"id", "in", ids}}, 0, 0, "id")
		if err != nil {
			return err
		}
		for _, id := range found {
			exists[id] = true
		}
		for id, d := range rules {
			if !exists[id] {
				continue
			}
			if d.fired > 0 {
				if err := su.DB().Exec(`UPDATE "mqtt_rule" SET "fire_count" = COALESCE("fire_count", 0) + ? WHERE "id" = ?`, d.fired, id).Error; err != nil {
					return models.Internal("count firings", err)
				}
			}
			if !d.last.IsZero() {
				if _, err := su.SetColumns(m, []int64{id}, map[string]any{"last_fired": d.last}); err != nil {
					return err
				}
			}
			// last_error is the last action's error, cleared when one
			// succeeds, but a pause stays until the rule is edited.
			if d.setError {
				notPaused := []any{[]any{"id", "=", id}, "|", []any{"last_error", "=", false}, []any{"last_error", "not like", pausedPrefix}}
				errVal := any(false)
				if d.err != "" {
					errVal = d.err
				}
				if _, err := su.UpdateWhere(m, notPaused, map[string]any{"last_error": errVal}); err != nil {
					return err
				}
			}
			if d.pause != "" {
				if _, err := su.SetColumns(m, []int64{id}, map[string]any{"last_error": d.pause}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows := make([][]any, 0, len(logs))
	for _, l := range logs {
		if !exists[l.rule] {
			continue
		}
		result, errText := ResultDone, any(nil)
		if l.err != "" {
			result, errText = ResultFailed, l.err
		}
		row := make([]any, 0, len(logFields)+2)
		rows = append(rows, append(row, l.rule, l.at, l.topic, l.payload, l.action, result, errText))
	}
	return a.logs.Insert(ctx, rows)
}
