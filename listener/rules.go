package listener

import (
	"context"
	"unsafe"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// Rule evaluation, after the acknowledgement (issue 11).
//
// Once a batch is committed, its QoS 1/2 messages acknowledged, the bus
// told and its device messages handed over, the writer hands the
// batch's received messages (stored ones and device messages alike; not
// the refused ones, over the broker's largest payload) of the brokers the
// rule engine is watching to the rules worker, through the rules queue:
// one job per broker, in arrival order. The worker calls
// RuleEngine.Evaluate for each job in turn, so rules see each broker's
// messages in arrival order and only committed ones, never hold back an
// acknowledgement, and lose nothing: a failed evaluation is retried, as
// device ingestion is, and at shutdown what is queued is evaluated within
// the drain timeout. A rules queue that fills up (the engine slower than
// the brokers) makes the writer wait, which slows intake.

// RuleEngine evaluates automation rules on committed messages; the rules
// addon's *rules.Addon is one. Options.Rules nil: no rules.
type RuleEngine interface {
	// Watching reports, cheaply and from memory, whether an active rule
	// may apply to the broker's messages.
	Watching(brokerID int64) bool
	// Evaluate evaluates the rules on messages of one broker, committed
	// and in arrival order. It may wait (its own actions queue full) but
	// does no network work on the caller's goroutine; it returns
	// ctx.Err() only when ctx ends. An error is retried with the same
	// messages.
	Evaluate(ctx context.Context, brokerID int64, msgs []rules.Message) error
}

// ruleMessageOverhead is what a queued rules.Message costs beyond its
// topic and payload bytes, so that a flood of empty messages counts too.
const ruleMessageOverhead = int(unsafe.Sizeof(rules.Message{}))

// handRules queues the batch's messages of watched brokers for the rules
// worker, one job per broker, in arrival order. It waits while the rules
// queue is full; after ctx ended (the drain deadline) what does not fit
// is counted lost.
func (w *writer) handRules(ctx context.Context, batch []item) {
	e := w.s.opts.Rules
	if e == nil {
		return
	}
	if w.watching == nil {
		w.watching = map[int64]bool{}
	}
	defer clear(w.watching)
	jobs := groupByBroker(batch, w.jobOf,
		func(it *item) bool {
			if it.refused || it.duplicate {
				return false
			}
			on, ok := w.watching[it.broker]
			if !ok {
				on = e.Watching(it.broker)
				w.watching[it.broker] = on
			}
			return on
		},
		func(it *item) (rules.Message, int) {
			m := &it.msg
			return rules.Message{Topic: m.topic, Payload: m.payload, QoS: m.qos, Retained: m.retained, Time: it.at},
				len(m.topic) + len(m.payload) + ruleMessageOverhead
		})
	for _, j := range jobs {
		w.s.rules.push(ctx, j, w.s.m.rulesWaits.Inc)
	}
}

// evaluateRules is the rules worker: it evaluates the queued jobs in
// order until the queue is closed and empty, retrying a failed one with
// capped backoff until it succeeds or ctx ends (the drain deadline at
// shutdown); then it counts the rest lost.
func (s *Service) evaluateRules(ctx context.Context) {
	runWorker(ctx, s.log, worker[rules.Message]{
		q: s.rules, call: s.opts.Rules.Evaluate, retries: s.m.rulesRetries, lost: s.m.rulesLost,
		failing:   "Unable to evaluate the rules on received messages, retrying; the messages are acknowledged already",
		recovered: "Evaluating the rules again",
		gaveUp:    "Giving up evaluating the rules at shutdown; their messages were acknowledged (and stored when a subscription matched them)",
	})
}
