package main

// The rules case (issue 11): the QoS 0 ingest case again on a fresh
// server with -rules active mqtt.rule records whose topic filter matches
// every published message, against the same case without rules measured
// just before; then the rule-to-publish latency: a rule whose action
// publishes what it received to a topic a bare subscriber of the bench
// listens to, timed from the device PUBLISH to the rule's publish
// arriving.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchrpc"
)

// errNoRules: the server has no mqtt.rule model (a build without the
// rules addon). The rules case is skipped, not failed.
var errNoRules = errors.New("the server has no mqtt.rule model")

const (
	pingTimeout = 5 * time.Second  // longest wait for one rule publish
	warmTimeout = 30 * time.Second // longest wait for the rules to be live
	// pingEvery paces the pings at 10 a second: the rules addon pauses a
	// rule that fires more than 20 times a second (its loop protection).
	pingEvery = 100 * time.Millisecond
	// neverReached is above every sequence number the bench publishes:
	// "seq > neverReached+i" is evaluated on every message and never met.
	// Each rule has a threshold of its own (+i): identical rules would
	// share their state in the engine and cost little more than one, which
	// is not the case to measure.
	neverReached = 999999999000
)

// rulesResult is one row of the rules table.
type rulesResult struct {
	db      string
	base    ingestResult // without rules, the run just before
	with    ingestResult // with b.o.rules rules
	lat     []time.Duration
	lost    int           // pings whose rule publish never arrived
	backlog int           // messages in the server's rules queue once the last row was counted; -1: unknown
	catchUp time.Duration // from then until the rules queue was empty
	waits   int           // times the server's writer waited for room in the rules queue (back-pressure)
	skipped string        // why the case did not run, "" when it did
}

// evalRate is how fast the rules worker went through its backlog, in
// messages a second: its evaluation rate, since it was never idle then.
// 0 when there was no backlog.
func (r rulesResult) evalRate() float64 {
	if r.backlog <= 0 || r.catchUp <= 0 {
		return 0
	}
	return float64(r.backlog) / r.catchUp.Seconds()
}

func (r rulesResult) ratio() float64 {
	if r.base.rate() <= 0 {
		return 0
	}
	return r.with.rate() / r.base.rate()
}

// wantRules reports whether the rules case follows the server case of
// this QoS and protocol: at QoS 0 on the first protocol measured.
func (b *bench) wantRules(qos byte, protocol string) bool {
	return b.o.rules > 0 && qos == 0 && protocol == b.o.protocols[0]
}

// runRules measures the rules case on a database against base, the case
// without rules measured just before, and records it. A server without
// mqtt.rule skips it, with a message.
func (b *bench) runRules(ctx context.Context, base ingestResult) error {
	res := rulesResult{db: base.db, base: base}
	rc := &rulesCase{b: b, db: base.db}
	r := ingestResult{qos: 0, db: base.db, protocol: base.protocol, published: b.o.n, rules: b.o.rules}
	with, err := b.serverCase(ctx, r, caseHooks{ready: rc.ready, done: rc.done})
	defer rc.close()
	if errors.Is(err, errNoRules) {
		res.skipped = "the server answered that mqtt.rule does not exist (a build without the rules addon)"
		fmt.Fprintf(os.Stderr, "%s: skipped: %s\n", r.name(), res.skipped)
		b.rules = append(b.rules, res)
		return nil
	}
	if err != nil {
		return err
	}
	res.with, res.lat, res.lost, res.backlog, res.catchUp, res.waits = with, rc.lat, rc.lost, rc.backlog, rc.catchUp, rc.waits
	b.ingest = append(b.ingest, with)
	b.rules = append(b.rules, res)
	return nil
}

// rulesCase is the state of one rules case between its hooks.
type rulesCase struct {
	b         *bench
	db        string
	pub, sub  *benchmqtt.Client
	pingTopic string
	rpc       *benchrpc.Client
	latRule   int64       // the latency rule's id
	pongs     chan string // payloads the rule published
	seq       atomic.Int64
	lat       []time.Duration
	lost      int
	backlog   int
	catchUp   time.Duration
	waits     int
}

func (rc *rulesCase) close() {
	for _, c := range []*benchmqtt.Client{rc.pub, rc.sub} {
		if c != nil {
			c.Close()
		}
	}
}

// ready creates the rules once the service listens: -rules on the
// published topics (prefix/sensor/...), then the latency rule on
// prefix/ping, whose first publish proves the rules live.
func (rc *rulesCase) ready(ctx context.Context, c *benchrpc.Client, l benchrpc.Listening, prefix string) error {
	b := rc.b
	sink := prefix + "-sink" // outside the subscription: the server never receives its rules' publishes
	pong := prefix + "-pong"
	start := time.Now()
	for i := range b.o.rules {
		_, err := c.Create("mqtt.rule", map[string]any{
			"name": fmt.Sprintf("bench rule %d", i), "active": true, "broker_id": l.Broker,
			"topic_filter": prefix + "/sensor/#", "trigger": "message", "json_path": "seq", "operator": ">", "value": strconv.Itoa(neverReached + i),
			"action": "publish", "action_topic": sink, "action_payload": "{payload}", "action_qos": int64(0), "cooldown": int64(0),
		})
		if err != nil && benchrpc.IsFault(err) && strings.Contains(err.Error(), "Object mqtt.rule doesn't exist") {
			return errNoRules
		}
		if err != nil {
			return err
		}
	}
	rc.pingTopic, rc.rpc = prefix+"/ping", c
	var err error
	rc.latRule, err = c.Create("mqtt.rule", map[string]any{
		"name": "bench latency rule", "active": true, "broker_id": l.Broker,
		"topic_filter": rc.pingTopic, "trigger": "message", "json_path": "", "operator": "any", "value": "",
		"action": "publish", "action_topic": pong, "action_payload": "{payload}", "action_qos": int64(1), "cooldown": int64(0),
	})
	if err != nil && benchrpc.IsFault(err) && strings.Contains(err.Error(), "Object mqtt.rule doesn't exist") {
		return errNoRules
	}
	if err != nil {
		return err
	}
	b.log.Info("Rules created", slog.Int("rules", b.o.rules+1), slog.Duration("took", time.Since(start)))

	rc.pongs = make(chan string, 64)
	if rc.sub, err = connect(b.broker.URL(), "oim-bench-rule-sub"); err != nil {
		return err
	}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		select {
		case rc.pongs <- string(m.Payload()):
		default: // a late duplicate nobody waits for
		}
	}
	if err := benchmqtt.Wait(rc.sub.Subscribe(pong, 1, handler), 10*time.Second); err != nil {
		return fmt.Errorf("rule subscriber: %w", err)
	}
	if rc.pub, err = connect(b.broker.URL(), "oim-bench-ping"); err != nil {
		return err
	}
	// The rules are loaded live: ping until the latency rule answers
	// (twice a second, within the addon's firing limit).
	deadline := time.Now().Add(warmTimeout)
	for {
		if _, ok, err := rc.ping(ctx, 500*time.Millisecond); err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the latency rule published nothing on %s within %s of its creation", pong, warmTimeout)
		}
	}
}

// done waits for the rules to catch up with the ingest case (the server's
// rules queue empty), then measures the rule-to-publish latency:
// -rules-pings pings, one at a time, pingEvery apart at least.
func (rc *rulesCase) done(ctx context.Context, serverURL string) error {
	b := rc.b
	start := time.Now()
	rc.backlog = -1
	err := benchproc.Poll(ctx, b.o.timeout, pollEvery, func() (bool, error) {
		m := benchproc.ScrapeMetrics(serverURL)
		n, ok := m["rules_queue_messages"]
		if !ok {
			return true, nil // no such metric: nothing to wait for
		}
		if rc.backlog < 0 {
			rc.backlog, rc.waits = int(n), int(m["rules_queue_waits_total"])
		}
		return n == 0, nil
	})
	rc.catchUp = time.Since(start)
	if err != nil {
		return fmt.Errorf("the rules did not catch up with the ingest within -timeout %s (%d messages queued at first): %w", b.o.timeout, rc.backlog, err)
	}
	fmt.Fprintf(os.Stderr, "rules latency: %d pings on %s\n", b.o.rulesPings, rc.pingTopic)
	pace := time.NewTicker(pingEvery)
	defer pace.Stop()
	for range b.o.rulesPings {
		select {
		case <-pace.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		d, ok, err := rc.ping(ctx, pingTimeout)
		if err != nil {
			return err
		}
		if !ok {
			rc.lost++
			continue
		}
		rc.lat = append(rc.lat, d)
	}
	if rc.lost > 0 {
		b.fail("rules %s: %d of %d rule publishes never arrived (within %s); the latency rule says: %s", rc.db, rc.lost, b.o.rulesPings, pingTimeout, rc.ruleState())
	}
	return errors.Join(rc.sub.LostErr(), rc.pub.LostErr())
}

// ruleState reads the latency rule's bookkeeping, to tell why a ping
// was not answered.
func (rc *rulesCase) ruleState() string {
	out, err := rc.rpc.Call("mqtt.rule", "read", []any{[]any{rc.latRule}}, map[string]any{"fields": []any{"active", "fire_count", "last_error"}})
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%v (pings sent, warm-up included: %d)", out, rc.seq.Load())
}

// ping publishes one numbered message on the latency rule's topic and
// waits up to limit for the rule's publish carrying it (its payload is
// the template {payload}); earlier answers are skipped.
func (rc *rulesCase) ping(ctx context.Context, limit time.Duration) (time.Duration, bool, error) {
	id := fmt.Sprintf("<ping %d>", rc.seq.Add(1))
	t := time.NewTimer(limit)
	defer t.Stop()
	start := time.Now()
	if err := benchmqtt.Wait(rc.pub.Publish(rc.pingTopic, 0, false, id), 10*time.Second); err != nil {
		return 0, false, fmt.Errorf("ping: %w", err)
	}
	for {
		select {
		case p := <-rc.pongs:
			if strings.Contains(p, id) {
				return time.Since(start), true, nil
			}
		case <-t.C:
			return 0, false, nil
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
}

// latency is a percentile of the case's ping latencies, nearest rank.
func (r rulesResult) latency(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	l := slices.Clone(r.lat)
	slices.Sort(l)
	i := int(p*float64(len(l))+0.5) - 1
	return l[max(0, min(i, len(l)-1))]
}
