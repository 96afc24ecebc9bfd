package main

// The ingest cases: N messages published through Mosquitto, received
// either by the bare paho subscriber (the reference) or by the server,
// which counts only once the rows are committed.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchrpc"
)

// ingestResult is one row of the ingest table.
type ingestResult struct {
	qos       byte
	db        string // "" for the reference
	protocol  string // the server's broker protocol (mqtt.broker values)
	rules     int    // active mqtt.rule records matching every message (the rules case)
	pair      int    // the rules case's pair after the first (2, 3, ...); 0 otherwise
	published int
	received  int64 // messages counted, or rows committed
	elapsed   time.Duration
	peakRSS   int64 // kB during the case, 0 for the reference
	hwm       int64 // kB, VmHWM at the end of the case
	usage     usage
	dropped   bool   // Mosquitto logged dropping messages for the receiving client
	connects  int    // connections Mosquitto saw from the receiving client: 1 unless it reconnected
	metrics   string // the server's /metrics summary, if it has one
}

func (r ingestResult) name() string {
	if r.db == "" {
		return fmt.Sprintf("qos%d paho reference", r.qos)
	}
	return fmt.Sprintf("qos%d server %s%s%s%s", r.qos, r.db, r.protoTag(" "), r.rulesTag(" ", " rules"), r.pairTag(" #"))
}

// pairTag numbers the rules case's later pairs, after sep.
func (r ingestResult) pairTag(sep string) string {
	if r.pair == 0 {
		return ""
	}
	return fmt.Sprintf("%s%d", sep, r.pair)
}

// rulesTag names a rules case's rule count, between sep and unit; ""
// for the cases without rules.
func (r ingestResult) rulesTag(sep, unit string) string {
	if r.rules == 0 {
		return ""
	}
	return fmt.Sprintf("%s%d%s", sep, r.rules, unit)
}

// protoTag names a server case's protocol, after sep, when it is not the
// default 3.1.1, so that the names and keys of 3.1.1-only runs stay as
// they were.
func (r ingestResult) protoTag(sep string) string {
	if r.protocol == protocolV5 {
		return sep + "mqtt5"
	}
	return ""
}

func (r ingestResult) lost() int64 { return max(0, int64(r.published)-r.received) }
func (r ingestResult) dup() int64  { return max(0, r.received-int64(r.published)) }

// rate is messages (each counted once) per second, from the first publish
// to the last receipt or commit.
func (r ingestResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(min(r.received, int64(r.published))) / r.elapsed.Seconds()
}

// cpuPerMsg is the CPU time of all parties (bench, server, PostgreSQL,
// Mosquitto) per stored message, in µs.
func (r ingestResult) cpuPerMsg() float64 {
	u := r.usage
	total := u.Bench + u.Server + u.Postgres + u.Mosquitto
	return float64(total) / float64(time.Microsecond) / float64(max(r.received, 1))
}

// progress is what follow saw.
type progress struct {
	pub   published
	count int64
	grew  time.Time // first time count was seen at its final value
}

// follow polls count until it reaches n with the publisher done, or makes
// no progress for idleGrace after the publisher finished, or the timeout
// passes. alive reports a crashed process; it ends the case.
func (b *bench) follow(ctx context.Context, pubDone <-chan published, every time.Duration,
	count func(time.Time) (int64, error), alive func() error) (progress, error) {
	var p progress
	finished := false
	deadline := time.Now().Add(b.o.timeout)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case p.pub = <-pubDone:
			finished = true
			pubDone = nil
			if p.pub.err != nil {
				if err := alive(); err != nil {
					return p, err
				}
				return p, fmt.Errorf("publisher: %w", p.pub.err)
			}
		case <-t.C:
		case <-ctx.Done():
			return p, ctx.Err()
		}
		now := time.Now()
		n, err := count(p.grew)
		if err != nil {
			return p, err
		}
		if n > p.count || p.grew.IsZero() {
			p.count, p.grew = n, now
		}
		if err := alive(); err != nil {
			return p, err
		}
		switch {
		case finished && p.count >= int64(b.o.n):
			return p, nil
		case finished && now.Sub(p.grew) >= idleGrace:
			return p, nil // the rest is lost
		case !finished && now.Sub(p.grew) >= stallLimit:
			// A QoS 1 publisher waits on the count: nothing moves any more.
			return p, fmt.Errorf("%w: nothing received or stored for %s, %d of %d so far", benchproc.ErrFunctional, stallLimit, p.count, b.o.n)
		case now.After(deadline):
			b.log.Warn("Timeout: stopped waiting", slog.Int64("count", p.count), slog.Duration("timeout", b.o.timeout))
			if !finished {
				return p, fmt.Errorf("publisher still running after -timeout %s", b.o.timeout)
			}
			return p, nil
		}
	}
}

// reference measures the bare paho subscriber: OrderMatters true, a handler
// that only counts.
func (b *bench) reference(ctx context.Context, qos byte) (ingestResult, error) {
	r := ingestResult{qos: qos, published: b.o.n}
	fmt.Fprintf(os.Stderr, "%s: %d messages of %d bytes\n", r.name(), b.o.n, b.o.size)
	prefix := fmt.Sprintf("oim-bench/%d/ref-q%d", clientSeqBase, qos)
	sub, err := connect(b.broker.URL(), "oim-bench-ref-sub")
	if err != nil {
		return r, err
	}
	defer sub.Close()
	var cnt counter
	if err := benchmqtt.Wait(sub.Subscribe(prefix+"/#", qos, cnt.handle), 10*time.Second); err != nil {
		return r, fmt.Errorf("reference subscribe: %w", err)
	}
	pub, err := connect(b.broker.URL(), "oim-bench-pub")
	if err != nil {
		return r, err
	}
	defer pub.Close()

	stats := statSource{mosquitto: b.broker.PID()}
	before := stats.snapshot()
	done := make(chan published, 1)
	go func() { done <- publish(ctx, pub, prefix, qos, b.o.n, b.o.size, b.o.window, b.flow(qos, cnt.n.Load)) }()
	p, err := b.follow(ctx, done, 10*time.Millisecond,
		func(time.Time) (int64, error) { return cnt.n.Load(), nil },
		func() error { return errors.Join(b.broker.Alive(), sub.LostErr(), pub.LostErr()) })
	r.usage = stats.snapshot().Minus(before)
	if err != nil {
		return r, fmt.Errorf("%s: %w", r.name(), err)
	}
	r.received = cnt.n.Load()
	if last := cnt.last.Load(); last != 0 {
		r.elapsed = time.Unix(0, last).Sub(p.pub.start)
	}
	r.dropped = b.broker.DroppedFor(sub.ID)
	r.connects = 1
	b.check(r)
	return r, nil
}

// caseHooks extend a server ingest case (the rules case's). ready runs
// once the service listens, before the probe; done once the case is
// measured and checked, the server (at serverURL) still running. Either
// may be nil.
type caseHooks struct {
	ready func(ctx context.Context, c *benchrpc.Client, l benchrpc.Listening, prefix string) error
	done  func(ctx context.Context, serverURL string) error
}

// serverIngest measures the server on a fresh database: configured over
// XML-RPC, proven to store one probe message, then timed on N.
func (b *bench) serverIngest(ctx context.Context, qos byte, kind, protocol string) (ingestResult, error) {
	return b.serverCase(ctx, ingestResult{qos: qos, db: kind, protocol: protocol, published: b.o.n}, caseHooks{})
}

// serverPairCase is serverIngest for a later pair of the rules case.
func (b *bench) serverPairCase(ctx context.Context, kind, protocol string, pair int) (ingestResult, error) {
	return b.serverCase(ctx, ingestResult{qos: 0, db: kind, protocol: protocol, published: b.o.n, pair: pair}, caseHooks{})
}

// serverCase runs the server ingest case r describes, with hooks.
func (b *bench) serverCase(ctx context.Context, r ingestResult, hooks caseHooks) (ingestResult, error) {
	qos, kind, protocol := r.qos, r.db, r.protocol
	fmt.Fprintf(os.Stderr, "%s: %d messages of %d bytes\n", r.name(), b.o.n, b.o.size)
	db, err := freshDatabase(ctx, kind, b.o.pg)
	if err != nil {
		return r, err
	}
	defer db.cleanup()
	srv, err := benchproc.StartServer(ctx, b.o.bin, db.arg)
	if err != nil {
		return r, err
	}
	defer srv.Stop()
	alive := func() error { return errors.Join(srv.Check(nil), b.broker.Alive()) }

	c, err := benchrpc.Dial(srv.URL())
	if err != nil {
		return r, srv.Check(err)
	}
	defer c.Close()
	// The protocol comes before the rest: Mosquitto's log is searched for
	// the client id, and one id must not be the start of another.
	// The rules and pair tags have the same length in every case: the
	// topics (and client ids) of the cases compared by the rules case
	// must be as long as each other, since the history's topic index and
	// every party's bytes grow with them.
	tag := fmt.Sprintf("-r%03d-p%d", r.rules, r.pair)
	prefix := fmt.Sprintf("oim-bench/%d/%s-q%d%s%s", clientSeqBase, kind, qos, r.protoTag("-"), tag)
	clientID := fmt.Sprintf("oim-bench-server%s%s-%d-%s-q%d", r.protoTag("-"), tag, clientSeqBase, kind, qos)
	vals := map[string]any{"protocol": protocol}
	if b.o.persistent {
		vals["clean_session"] = false
	}
	l, err := c.ListenWith(ctx, b.broker.Addr, clientID, prefix+"/#", qos, vals)
	if err != nil {
		return r, srv.Check(err)
	}
	if hooks.ready != nil {
		if err := hooks.ready(ctx, c, l, prefix); err != nil {
			return r, srv.Check(err)
		}
	}
	rows, err := openCounter(db, "receive")
	if err != nil {
		return r, err
	}
	defer rows.close()
	pub, err := connect(b.broker.URL(), "oim-bench-pub")
	if err != nil {
		return r, err
	}
	defer pub.Close()

	// One message end to end before the clock starts: the subscription is
	// live at the broker and the server commits what it receives. (Rows
	// already there are the hooks', the rules case's warm-up pings.)
	already, err := rows.full(ctx)
	if err != nil {
		return r, err
	}
	if err := benchmqtt.Wait(pub.Publish(prefix+"/probe", qos, false, payload(-1, b.o.size)), 10*time.Second); err != nil {
		return r, fmt.Errorf("probe: %w", err)
	}
	var base int64
	err = benchproc.Poll(ctx, 30*time.Second, pollEvery, func() (bool, error) {
		n, err := rows.full(ctx)
		base = n
		return n >= already+1, errors.Join(err, alive())
	})
	if err != nil {
		return r, fmt.Errorf("%s: the probe message was not stored: %w\nserver log:\n%s", r.name(), err, srv.LogTail())
	}

	b.log.Info("Measuring", slog.String("case", r.name()), slog.Int("server_pid", srv.PID()))
	rss := benchproc.StartRSSSampler(srv.PID(), rssEvery)
	stats := statSource{server: srv.PID(), mosquitto: b.broker.PID()}
	before := stats.snapshot()
	// With a flow the publisher waits on the committed count, so it is
	// polled often enough not to starve the server.
	every := pollEvery
	var committed atomic.Int64
	fl := b.flow(qos, committed.Load)
	if fl != nil {
		every = flowPollEvery
	}
	done := make(chan published, 1)
	go func() { done <- publish(ctx, pub, prefix, qos, b.o.n, b.o.size, b.o.window, fl) }()
	var recounted time.Time
	p, err := b.follow(ctx, done, every, func(grew time.Time) (int64, error) {
		var n int64
		var err error
		// step can miss a row committed below the highest id seen; a
		// stall is the moment to recount (twice a second at most), as is
		// the end.
		if !grew.IsZero() && time.Since(grew) > 500*time.Millisecond && time.Since(recounted) > 500*time.Millisecond {
			recounted = time.Now()
			n, err = rows.full(ctx)
		} else {
			n, err = rows.step(ctx)
		}
		committed.Store(n - base)
		return n - base, err
	}, alive)
	r.peakRSS = rss.Stop()
	r.usage = stats.snapshot().Minus(before)
	if err != nil {
		return r, fmt.Errorf("%s: %w", r.name(), err)
	}
	time.Sleep(time.Second) // late rows: duplicates, or a last batch
	final, err := rows.full(ctx)
	if err != nil {
		return r, err
	}
	if err := alive(); err != nil {
		return r, fmt.Errorf("%s: %w", r.name(), err)
	}
	r.received = final - base
	r.elapsed = p.grew.Sub(p.pub.start)
	r.hwm, _ = benchproc.ProcStatusKB(srv.PID(), "VmHWM")
	r.dropped = b.broker.DroppedFor(clientID)
	r.connects = b.broker.ConnectsOf(clientID)
	r.metrics = scrapeMetrics(srv.URL())
	b.check(r)
	if hooks.done != nil {
		if err := hooks.done(ctx, srv.URL()); err != nil {
			return r, fmt.Errorf("%s: %w", r.name(), srv.Check(err))
		}
	}
	return r, nil
}

// flow is the end-to-end limit of a QoS 1 publisher, nil at QoS 0 (open
// loop: what the broker drops is reported as lost) or with -e2e-window 0.
func (b *bench) flow(qos byte, consumed func() int64) *flow {
	if qos == 0 || b.o.e2eWindow <= 0 {
		return nil
	}
	return &flow{consumed: consumed, window: b.o.e2eWindow}
}

// check records the functional failures of an ingest case: loss at QoS 1
// that Mosquitto did not cause, more messages than were published at
// QoS 0. When Mosquitto logged dropping messages for the receiving client
// (its queue of max_queued_messages was full: the subscriber was slower
// than the publisher), the loss is the broker's, reported and not failed.
func (b *bench) check(r ingestResult) {
	if r.qos >= 1 && r.lost() > 0 && !r.dropped {
		b.fail("%s: %d of %d messages lost at QoS %d, none dropped by Mosquitto", r.name(), r.lost(), r.published, r.qos)
	}
	if r.qos >= 1 && r.lost() > 0 && r.dropped {
		b.log.Warn("Messages dropped by Mosquitto: its queue for the subscriber was full",
			slog.String("case", r.name()), slog.Int64("lost", r.lost()))
	}
	if r.qos == 0 && r.dup() > 0 {
		b.fail("%s: %d messages counted twice at QoS 0", r.name(), r.dup())
	}
}
