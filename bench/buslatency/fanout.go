package main

// Step 2: fan-out. -clients /websocket clients, logged in on -sessions
// sessions, subscribe to mqtt_realtime; then, for each rate of
// -fanout-rates, one paced publisher sends rate messages a second for
// -fanout-duration to a topic the server stores (oim-bench/<run>/fanout).
// Every stored message is one notification to every client. A step ends
// when every client has every message, or nothing new arrived for
// idleGrace; the next starts after it.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// fanoutResult is one step's figures.
type fanoutResult struct {
	rate      int
	pub       published
	clients   int
	delivered int64 // notifications of the step's messages, all clients
	elapsed   time.Duration
	minGot    int64 // the least any client got
	lossy     int   // clients that missed at least one message
	h         hist
	usage     usage         // CPU from the first publish to the end of the drain
	wall      time.Duration // that window
	peakRSS   int64         // kB
	metrics   map[string]float64
}

func (r fanoutResult) expected() int64 { return int64(r.pub.sent) * int64(r.clients) }

// rateDelivered is notifications per second, from the first publish to
// the last notification any client received.
func (r fanoutResult) rateDelivered() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.delivered) / r.elapsed.Seconds()
}

// stepRange is the sequence numbers of one step's messages.
type stepRange struct{ lo, hi int64 }

// stepStats is one client's share of a step. got and last are read while
// the step runs; h only once the reader stopped.
type stepStats struct {
	got  atomic.Int64
	last atomic.Int64 // unix nanos of the latest receipt
	h    hist
}

// fanClient is one client of the fan-out with its per-step counters.
type fanClient struct {
	sock  *socket
	steps []stepStats
}

func (b *bench) fanoutSteps(ctx context.Context) error {
	o := b.o
	ranges := make([]stepRange, len(o.fanoutRates))
	next := int64(1 << 40) // far above the latency step's numbers
	for k, r := range o.fanoutRates {
		n := int64(o.fanoutDuration.Seconds() * float64(r))
		ranges[k] = stepRange{next, next + n}
		next += n
	}

	sessions := make([]*webClient, o.sessions)
	for i := range sessions {
		var err error
		if sessions[i], err = login(ctx, b.srv.URL()); err != nil {
			return err
		}
	}
	b.log.Info("Fan-out: connecting", slog.Int("clients", o.clients), slog.Int("sessions", o.sessions))
	clients := make([]*fanClient, o.clients)
	var (
		readers sync.WaitGroup
		dialErr error
		mu      sync.Mutex
		sem     = make(chan struct{}, 32) // handshakes in flight
		dials   sync.WaitGroup
	)
	from := highestID.Load()
	for i := range clients {
		fc := &fanClient{steps: make([]stepStats, len(ranges))}
		clients[i] = fc
		sem <- struct{}{}
		dials.Go(func() {
			defer func() { <-sem }()
			s, err := dialSocket(ctx, b.srv.URL(), sessions[i%len(sessions)].sessionID(), from, fc.onNote(ranges))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				dialErr = err
				return
			}
			fc.sock = s
			readers.Go(s.read)
		})
	}
	dials.Wait()
	defer func() {
		for _, fc := range clients {
			if fc.sock != nil {
				fc.sock.close()
			}
		}
		readers.Wait()
	}()
	if dialErr != nil {
		return fmt.Errorf("%w: %v", benchproc.ErrFunctional, dialErr)
	}
	pub, err := benchmqtt.Connect(b.broker.URL(), "oim-bench-fanpub-"+b.run)
	if err != nil {
		return err
	}
	defer pub.Close()
	socks := make([]*socket, len(clients))
	for i, fc := range clients {
		socks[i] = fc.sock
	}
	if err := b.awaitSockets(ctx, pub, socks); err != nil {
		return err
	}
	time.Sleep(time.Second) // let the probes' writes settle before reading the idle RSS
	b.idleRSS, _ = benchproc.ProcStatusKB(b.srv.PID(), "VmRSS")

	topic := "oim-bench/" + b.run + "/fanout"
	for k, rate := range o.fanoutRates {
		r := ranges[k]
		b.log.Info("Fan-out: step", slog.Int("rate", rate), slog.Int64("messages", r.hi-r.lo), slog.Int("clients", len(clients)))
		rss := benchproc.StartRSSSampler(b.srv.PID(), rssEvery)
		before := b.snapshot()
		p, err := publishPaced(ctx, pub, rate, int(r.hi-r.lo), r.lo, func(int) string { return topic })
		if err != nil {
			rss.Stop()
			return err
		}
		want := int64(p.sent) * int64(len(clients))
		err = b.awaitStragglers(ctx, 50*time.Millisecond, func() (int64, bool) {
			total := int64(0)
			for _, fc := range clients {
				total += fc.steps[k].got.Load()
			}
			return total, total >= want
		})
		if err != nil {
			rss.Stop()
			return err
		}
		res := fanoutResult{rate: rate, pub: p, clients: len(clients), usage: b.snapshot().Minus(before), wall: time.Since(p.start),
			peakRSS: rss.Stop(), metrics: benchproc.ScrapeMetrics(b.srv.URL()), minGot: -1}
		var last int64
		for _, fc := range clients {
			got := fc.steps[k].got.Load()
			res.delivered += got
			if res.minGot < 0 || got < res.minGot {
				res.minGot = got
			}
			if got < int64(p.sent) {
				res.lossy++
			}
			last = max(last, fc.steps[k].last.Load())
		}
		if last > 0 {
			res.elapsed = time.Unix(0, last).Sub(p.start)
		}
		if res.delivered == 0 {
			b.fail("fan-out at %d msg/s: no client received any of %d messages", rate, p.sent)
		}
		b.fanout = append(b.fanout, res)
	}

	// The histograms are the readers' own: close the sockets, wait for
	// the readers, then merge.
	for _, fc := range clients {
		fc.sock.close()
	}
	readers.Wait()
	closedByServer := 0
	for _, fc := range clients {
		for k := range b.fanout {
			b.fanout[k].h.merge(&fc.steps[k].h)
		}
		b.fanoutDup += fc.sock.dup
		if fc.sock.err != nil {
			closedByServer++
			b.fanoutSockErr = fc.sock.err.Error()
		}
	}
	b.fanoutClosed = closedByServer
	if closedByServer > 0 {
		b.log.Warn("Sockets closed during the fan-out", slog.Int("sockets", closedByServer), slog.String("last_error", b.fanoutSockErr))
	}
	return nil
}

// onNote counts a note in the step its sequence number belongs to.
func (fc *fanClient) onNote(ranges []stepRange) func(wireNote, time.Time) {
	return func(n wireNote, at time.Time) {
		for k, r := range ranges {
			if n.seq >= r.lo && n.seq < r.hi {
				st := &fc.steps[k]
				st.got.Add(1)
				st.last.Store(at.UnixNano())
				st.h.add(at.Sub(time.Unix(0, n.sent)))
				return
			}
		}
	}
}
