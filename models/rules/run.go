package rules

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Run is the addon's worker, until ctx ends: it does the rules' actions
// (delayed ones at their time, failed ones of QoS 1 and 2 again after a
// backoff) in Options.Lanes lanes (see lanes), fires the interval rules, matches
// device state changes against the device rules, records firings and log
// rows, and purges the log. The server runs it beside the listener
// service. Delayed actions still waiting when it stops are not done.
func (a *Addon) Run(ctx context.Context) {
	var wg sync.WaitGroup
	l := &lanes{queues: map[string]*targetQueue{}, wake: make(chan struct{}, 1)}
	for range a.opts.Lanes {
		wg.Go(func() { l.run(ctx, a.runJob) })
	}
	wg.Go(func() { a.runIntervals(ctx) })
	wg.Go(func() { a.runDevices(ctx) })
	wg.Go(func() { a.runRecorder(ctx) })
	wg.Go(func() { a.runPurge(ctx) })
	a.dispatch(ctx, l)
	wg.Wait()
}

// dispatch hands each job to the lanes once due. It never waits for
// them: their queues are bounded by the jobs' bytes.
func (a *Addon) dispatch(ctx context.Context, l *lanes) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		j, wait := a.work.next(time.Now())
		if j != nil {
			l.add(j.laneKey(), j)
			continue
		}
		var due <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-a.work.wake:
		case <-due:
		}
	}
}

// lanes run the actions, Options.Lanes at a time: each target's (a
// topic template, a device, a signal) one after the other in firing
// order, different targets side by side, so that a target stuck on a
// slow broker holds up only its own actions (and one lane).
type lanes struct {
	mu     sync.Mutex
	queues map[string]*targetQueue
	ready  []string // targets with jobs and none running
	wake   chan struct{}
}

// targetQueue is one target's jobs.
type targetQueue struct {
	jobs    []*job
	running bool
}

func (l *lanes) add(key string, j *job) {
	l.mu.Lock()
	q := l.queues[key]
	if q == nil {
		q = &targetQueue{}
		l.queues[key] = q
	}
	q.jobs = append(q.jobs, j)
	if !q.running && len(q.jobs) == 1 {
		l.ready = append(l.ready, key)
	}
	l.mu.Unlock()
	signal(l.wake)
}

// take starts the next job of a ready target; nil when none is.
func (l *lanes) take() (string, *job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ready) == 0 {
		return "", nil
	}
	key := l.ready[0]
	l.ready = l.ready[1:]
	q := l.queues[key]
	j := q.jobs[0]
	q.jobs[0] = nil
	q.jobs, q.running = q.jobs[1:], true
	if len(l.ready) > 0 {
		signal(l.wake) // another lane may start the next target
	}
	return key, j
}

// finish ends a target's running job.
func (l *lanes) finish(key string) {
	l.mu.Lock()
	q := l.queues[key]
	q.running = false
	if len(q.jobs) > 0 {
		l.ready = append(l.ready, key)
	} else {
		delete(l.queues, key)
	}
	l.mu.Unlock()
	signal(l.wake)
}

// run is one lane, until ctx ends.
func (l *lanes) run(ctx context.Context, do func(context.Context, *job)) {
	for {
		for key, j := l.take(); j != nil; key, j = l.take() {
			do(ctx, j)
			l.finish(key)
			if ctx.Err() != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
	}
}

// retryLoad is how long Run waits after failing to load the rules.
const retryLoad = 5 * time.Second

// loaded waits until the rules are loaded; false when ctx ended first.
func (a *Addon) loaded(ctx context.Context) bool {
	for {
		err := a.engine.ensure(ctx, a)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		a.log.Warn("Unable to load the automation rules", slog.Any("error", err))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(retryLoad):
		}
	}
}

// runIntervals fires each interval rule every interval, the first time
// one interval after it was loaded (an edit starts it over).
func (a *Addon) runIntervals(ctx context.Context) {
	if !a.loaded(ctx) {
		return
	}
	next := map[*rule]time.Time{}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		rules := a.engine.intervalRules()
		live := make(map[*rule]bool, len(rules))
		var earliest time.Time
		for _, ru := range rules {
			live[ru] = true
			n, ok := next[ru]
			if !ok {
				n = now.Add(ru.interval)
			}
			if !n.After(now) {
				if err := a.evaluateInterval(ctx, ru, now); err != nil {
					return // ctx ended
				}
				if n = n.Add(ru.interval); !n.After(now) {
					n = now.Add(ru.interval) // late (a long pause): skip the missed ones
				}
			}
			next[ru] = n
			if earliest.IsZero() || n.Before(earliest) {
				earliest = n
			}
		}
		for ru := range next {
			if !live[ru] {
				delete(next, ru)
			}
		}
		var due <-chan time.Time
		if !earliest.IsZero() {
			timer.Reset(time.Until(earliest))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-a.engine.changed:
		case <-due:
		}
	}
}

// runDevices matches the device state changes the iot addon tells
// against the device rules.
func (a *Addon) runDevices(ctx context.Context) {
	if !a.loaded(ctx) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.work.devWake:
		}
		topics := map[int64]func(string) string{}
		for _, ev := range a.work.takeDeviceEvents() {
			availability, ok := topics[ev.broker]
			if !ok {
				availability = a.availabilityTopics(ctx, ev.broker)
				topics[ev.broker] = availability
			}
			if err := a.evaluateDevice(ctx, ev, availability(ev.identifier)); err != nil {
				return // ctx ended
			}
		}
	}
}

// availabilityTopics renders a broker's device availability topic ("" when
// it has none).
func (a *Addon) availabilityTopics(ctx context.Context, brokerID int64) func(string) string {
	dt, ok, err := a.iot.BrokerTopics(ctx, brokerID)
	return func(identifier string) string {
		if err != nil || !ok || dt.Patterns.Availability == "" {
			return ""
		}
		t, err := dt.Patterns.AvailabilityTopic(identifier)
		if err != nil {
			return ""
		}
		return t
	}
}

// purgeEvery is how often Run purges the log.
const purgeEvery = time.Hour

// runPurge purges the log at start and then every purgeEvery.
func (a *Addon) runPurge(ctx context.Context) {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if n, err := a.PurgeLog(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("Unable to purge the automation rules' log", slog.Any("error", err))
		} else if n > 0 {
			a.log.Info("Old automation rule log rows deleted", slog.Int64("rows", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PurgeLog deletes the log rows older than Options.LogRetention and
// those beyond the Options.LogMaxRows newest, and returns how many.
func (a *Addon) PurgeLog(ctx context.Context) (int64, error) {
	var total int64
	err := a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		su := env.Sudo()
		m := a.reg.Model("mqtt.rule.log")
		n, err := su.DeleteWhere(m, []any{[]any{"time", "<", time.Now().Add(-a.opts.LogRetention).UTC()}})
		total += n
		if err != nil {
			return err
		}
		edge, err := su.Search(m, []any{}, a.opts.LogMaxRows-1, 1, "id desc")
		if err != nil || len(edge) == 0 {
			return err
		}
		n, err = su.DeleteWhere(m, []any{[]any{"id", "<", edge[0]}})
		total += n
		return err
	})
	return total, err
}
