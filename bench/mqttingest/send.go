package main

// The send cases: mqtt.signal.action_send_mqtt at QoS 1 over XML-RPC from
// a few closed-loop clients, against a bare paho publish-and-wait loop
// from as many goroutines on one connection.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchrpc"
)

// sendResult is one row of the send table.
type sendResult struct {
	db       string // "" for the reference
	clients  int
	ok       int   // calls that returned True (reference: PUBACKs)
	faults   int   // calls that returned a fault
	other    int   // calls that returned something else than True
	rows     int64 // "send" history rows afterwards; -1 for the reference
	lat      []time.Duration
	elapsed  time.Duration
	peakRSS  int64
	hwm      int64
	usage    usage
	firstErr string
}

func (r sendResult) name() string {
	if r.db == "" {
		return "qos1 paho publish+wait"
	}
	return "action_send_mqtt " + r.db
}

func (r sendResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// percentile of the latencies, nearest rank (sorts them in place).
func (r sendResult) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	if !slices.IsSorted(r.lat) {
		slices.Sort(r.lat)
	}
	i := int(p*float64(len(r.lat))+0.5) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// outcome of one call: ok, a fault (the server said no), or another answer.
type outcome int

const (
	callOK outcome = iota
	callFault
	callOther
)

// closedLoop runs call from n workers for d. call's error is fatal and
// stops every worker; a fault is counted and the loop goes on.
func closedLoop(ctx context.Context, n int, d time.Duration, call func(worker int) (outcome, string, error)) (sendResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		r        = sendResult{clients: n, rows: -1}
		firstErr error
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var ok, faults, other int
			var why string
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				o, msg, err := call(w)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					break
				}
				switch o {
				case callOK:
					ok++
					lat = append(lat, time.Since(t0))
				case callFault:
					faults++
				default:
					other++
				}
				if o != callOK && why == "" {
					why = msg
				}
			}
			mu.Lock()
			r.lat = append(r.lat, lat...)
			r.ok, r.faults, r.other = r.ok+ok, r.faults+faults, r.other+other
			if r.firstErr == "" {
				r.firstErr = why
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return r, firstErr
}

// referenceSend publishes at QoS 1 and waits for each PUBACK, from
// sendClients goroutines sharing one connection.
func (b *bench) referenceSend(ctx context.Context) (sendResult, error) {
	fmt.Fprintf(os.Stderr, "send reference: %d goroutines, %s\n", b.o.sendClients, b.o.sendDuration)
	pub, err := connect(b.broker.URL(), "oim-bench-send-ref")
	if err != nil {
		return sendResult{}, err
	}
	defer pub.Close()
	topic := fmt.Sprintf("oim-bench/%d/send-ref", clientSeqBase)
	body := payload(0, b.o.size)
	stats := statSource{mosquitto: b.broker.PID()}
	before := stats.snapshot()
	r, err := closedLoop(ctx, b.o.sendClients, b.o.sendDuration, func(int) (outcome, string, error) {
		return callOK, "", benchmqtt.Wait(pub.Publish(topic, 1, false, body), 10*time.Second)
	})
	r.usage = stats.snapshot().Minus(before)
	return r, err
}

// serverSend measures action_send_mqtt on a fresh database, with the
// service running so that signals go out through the broker's daemon.
// Each client presses Send on its own signal: the figure is the path's,
// not a lock on one row.
func (b *bench) serverSend(ctx context.Context, kind string) (sendResult, error) {
	r := sendResult{db: kind}
	fmt.Fprintf(os.Stderr, "%s: %d clients, %s\n", r.name(), b.o.sendClients, b.o.sendDuration)
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
	c, err := benchrpc.Dial(srv.URL())
	if err != nil {
		return r, srv.Check(err)
	}
	defer c.Close()
	prefix := fmt.Sprintf("oim-bench/%d/%s-send", clientSeqBase, kind)
	clientID := fmt.Sprintf("oim-bench-server-%d-%s-send", clientSeqBase, kind)
	l, err := c.Listen(ctx, b.broker.Addr, clientID, prefix+"/in/#", 1)
	if err != nil {
		return r, srv.Check(err)
	}
	// The signals' topic comes from a subscription that is never
	// subscribed: the daemon does not receive what it sends.
	out, err := c.Create("mqtt.subscription", map[string]any{"broker_id": l.Broker, "topic": prefix + "/out", "qos": int64(1)})
	if err != nil {
		return r, err
	}
	clients := make([]*benchrpc.Client, b.o.sendClients)
	signals := make([]int64, b.o.sendClients)
	body := string(payload(0, b.o.size))
	for w := range clients {
		if clients[w], err = benchrpc.Dial(srv.URL()); err != nil {
			return r, err
		}
		defer clients[w].Close()
		signals[w], err = c.Create("mqtt.signal", map[string]any{"broker_id": l.Broker, "subscription_id": out, "payload": body, "qos": int64(1)})
		if err != nil {
			return r, err
		}
	}

	rss := benchproc.StartRSSSampler(srv.PID(), rssEvery)
	stats := statSource{server: srv.PID(), mosquitto: b.broker.PID()}
	before := stats.snapshot()
	res, err := closedLoop(ctx, b.o.sendClients, b.o.sendDuration, func(w int) (outcome, string, error) {
		v, err := clients[w].Call("mqtt.signal", "action_send_mqtt", []any{[]any{signals[w]}}, nil)
		switch {
		case err != nil && benchrpc.IsFault(err):
			return callFault, err.Error(), nil
		case err != nil:
			return 0, "", err
		case v != true:
			return callOther, fmt.Sprintf("returned %#v", v), nil
		}
		return callOK, "", nil
	})
	res.db = kind
	res.peakRSS = rss.Stop()
	res.usage = stats.snapshot().Minus(before)
	if err != nil {
		return res, fmt.Errorf("%s: %w", res.name(), errors.Join(srv.Check(err), err))
	}
	if err := srv.Check(nil); err != nil {
		return res, err
	}
	rows, err := openCounter(db, "send")
	if err != nil {
		return res, err
	}
	defer rows.close()
	if res.rows, err = rows.full(ctx); err != nil {
		return res, err
	}
	res.hwm, _ = benchproc.ProcStatusKB(srv.PID(), "VmHWM")
	if res.rows != int64(res.ok) {
		b.fail("%s: %d send history rows for %d calls that returned True", res.name(), res.rows, res.ok)
	}
	if res.other > 0 {
		b.fail("%s: %d calls returned something else than True (%s)", res.name(), res.other, res.firstErr)
	}
	return res, nil
}
