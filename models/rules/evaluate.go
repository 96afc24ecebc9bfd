package rules

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/topic"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// Evaluate runs a broker's committed messages, in arrival order, through
// the active message rules that apply to the broker. Matching and the
// rules' state (threshold arming, changed's last values, cooldowns) are
// in memory; each firing is told on the bus and its action handed to the
// addon's worker (Run), never done here. When the worker's queue is full
// Evaluate waits for room: nothing is dropped. It returns ctx.Err() only
// when ctx ends while waiting, and the error of loading the rules on
// first use.
func (a *Addon) Evaluate(ctx context.Context, brokerID int64, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := a.engine.ensure(ctx, a); err != nil {
		return err
	}
	groups := a.engine.messageGroups(brokerID)
	if len(groups) == 0 {
		return nil
	}
	var fired []firing // reused: the classes a message fires, group by group
	for i := range msgs {
		m := &msgs[i]
		at := m.Time
		if at.IsZero() {
			at = time.Now()
		}
		var d doc // parsed once, for all the rules that look into it
		for _, g := range groups {
			if !topic.Match(g.filter, m.Topic) {
				continue
			}
			fired = g.step(&d, brokerID, m, at, fired[:0])
			for i := range fired {
				f := &fired[i]
				for _, ru := range f.cr.rules {
					if err := a.offer(ctx, ru, &f.t); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// trigger is what makes a rule fire: a message, a device state, or the
// clock.
type trigger struct {
	broker  int64
	topic   string
	payload []byte
	value   value
	device  string // the device identifier, when known
	key     string // what the rule's state is kept by; "": the topic
	at      time.Time
	// stateOnly: a retained message the broker replayed (on subscribe or
	// reconnect) is old news: it moves the rule's state (a threshold's
	// side, changed's last value) but fires nothing.
	stateOnly bool
}

func (t trigger) vars(ru *rule) vars {
	return vars{topic: t.topic, payload: mqtt.PayloadText(t.payload), value: t.value.text, device: t.device, rule: ru.name}
}

// fireOne steps a rule's state with a trigger that matched it and, when
// it fires, offers the firing.
func (a *Addon) fireOne(ctx context.Context, ru *rule, t *trigger) error {
	if !ru.cls.step(ru, t) {
		return nil
	}
	return a.offer(ctx, ru, t)
}

// offer counts a firing of a rule whose state said so and queues its
// action (unless the rule is paused, or the rate guard pauses it now).
func (a *Addon) offer(ctx context.Context, ru *rule, t *trigger) error {
	fired, count, pausedNow := ru.count(t, a.opts.MaxFiringsPerSecond)
	if pausedNow {
		msg := fmt.Sprintf("%s fired more than %d times in a second (a loop, or a filter too wide): edit the rule to resume it.",
			pausedPrefix, a.opts.MaxFiringsPerSecond)
		a.log.Warn("Automation rule paused", slog.Int64("rule_id", ru.id), slog.String("rule", ru.name), slog.String("topic", t.topic))
		a.work.rec.paused(ru.id, msg)
	}
	if !fired {
		return nil
	}
	// Queued first: a firing given up because ctx ended (the server
	// stopping) is neither counted nor told.
	if err := a.work.push(ctx, newJob(ru, *t)); err != nil {
		return err
	}
	a.work.rec.fired(ru.id, t.at)
	a.reg.Notify(ctx, models.Notification{Channel: ChannelRules, Type: NoteFired, Payload: map[string]any{
		"rule_id": ru.id, "name": ru.name, "topic": t.topic, "value": t.value.text, "fire_count": count,
	}})
	return nil
}

// pausedPrefix starts the last_error of a rule the rate guard paused.
const pausedPrefix = "Paused:"

// count counts a firing of the rule: whether it fires (not paused), its
// fire count then, and whether this firing is the one that paused it.
func (ru *rule) count(t *trigger, maxPerSecond int) (fired bool, count int64, pausedNow bool) {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	if ru.paused {
		return false, ru.fired, false
	}
	return ru.counted(t, maxPerSecond)
}

// counted counts a firing, unless it is one too many for the rate
// guard, which pauses the rule; ru.mu is held.
func (ru *rule) counted(t *trigger, maxPerSecond int) (fired bool, count int64, pausedNow bool) {
	if maxPerSecond > 0 && ru.action != ActionNotify && ru.rate.over(t.at, maxPerSecond) {
		ru.paused = true
		return false, ru.fired, true
	}
	ru.fired++
	return true, ru.fired, false
}

// rateWindow counts a rule's firings in the current second.
type rateWindow struct {
	start time.Time
	n     int
}

// over counts a firing at t and tells whether the second holds more than
// max of them.
func (w *rateWindow) over(t time.Time, max int) bool {
	if t.Sub(w.start) >= time.Second || t.Before(w.start) {
		w.start, w.n = t, 0
	}
	w.n++
	return w.n > max
}

// deviceState is the iot addon's OnDeviceState hook: a device went
// online or offline (committed). It queues the event for Run, which
// matches it against the device rules: this runs on the listener's
// device worker and must not wait.
func (a *Addon) deviceState(brokerID, deviceID int64, identifier string, online bool) {
	a.work.deviceEvent(deviceEvent{broker: brokerID, device: deviceID, identifier: identifier, online: online, at: time.Now()})
}

// deviceEvent is one device state change.
type deviceEvent struct {
	broker, device int64
	identifier     string
	online         bool
	at             time.Time
}

// evaluateDevice fires the device rules an event matches; topic is the
// device's availability topic ("" when its broker has none).
func (a *Addon) evaluateDevice(ctx context.Context, ev deviceEvent, availability string) error {
	want := TriggerDeviceOffline
	word := "offline"
	if ev.online {
		want, word = TriggerDeviceOnline, "online"
	}
	for _, ru := range a.engine.deviceRules() {
		if ru.trigger != want || ru.broker != 0 && ru.broker != ev.broker {
			continue
		}
		if ru.filter != "" && !topic.Match(ru.filter, availability) {
			continue
		}
		t := trigger{broker: ev.broker, topic: availability, payload: []byte(word), value: value{text: word}, device: ev.identifier, at: ev.at}
		if t.topic == "" {
			t.key = "device " + ev.identifier // the cooldown's key
		}
		if err := a.fireOne(ctx, ru, &t); err != nil {
			return err
		}
	}
	return nil
}

// evaluateInterval fires an interval rule.
func (a *Addon) evaluateInterval(ctx context.Context, ru *rule, at time.Time) error {
	return a.fireOne(ctx, ru, &trigger{broker: ru.broker, value: textValue(strconv.FormatInt(at.Unix(), 10)), at: at})
}
