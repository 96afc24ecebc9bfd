package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchmqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchrpc"
)

const (
	deviceID = "bench-1"
	benchDB  = "oim_bench_cmd"
	// refPrefix is the reference's topic root: not a device topic of the
	// server's, so the server ingests none of the reference's traffic.
	refPrefix   = "bench-ref/" + deviceID
	callTimeout = 10 // seconds, the command's timeout
)

// result is one path's figures.
type result struct {
	protocol, path string
	calls          int
	elapsed        time.Duration
	latencies      []time.Duration // sorted
}

func (r result) rate() float64 { return float64(r.calls) / r.elapsed.Seconds() }

func (r result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))]
}

func run(ctx context.Context, o options) ([]result, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	bin, cleanup, err := benchproc.ServerBinary(ctx, o.bin)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	// Without it, Nagle's algorithm on Mosquitto's side meets the peers'
	// delayed ACKs and a round trip of small packets takes 40 ms.
	broker, err := benchmqtt.StartMosquitto(ctx, o.mosquitto, "set_tcp_nodelay true")
	if err != nil {
		return nil, err
	}
	defer broker.Stop()
	var out []result
	for _, p := range o.protocols {
		rs, err := runProtocol(ctx, o, log, bin, broker.Addr, p)
		out = append(out, rs...)
		if err != nil {
			return out, fmt.Errorf("MQTT %s: %w", p, err)
		}
	}
	return out, nil
}

// runProtocol measures one protocol: the device and the reference, then
// the server on a fresh database.
func runProtocol(ctx context.Context, o options, log *slog.Logger, bin, addr, protocol string) ([]result, error) {
	suffix := strings.ReplaceAll(protocol, ".", "")
	dev, err := startDevice(ctx, protocol, addr, "bench-device-"+suffix)
	if err != nil {
		return nil, err
	}
	defer dev.close()
	ref, err := reference(ctx, o, protocol, addr, "bench-requester-"+suffix)
	if err != nil {
		return nil, err
	}
	log.Info("Reference measured", "protocol", protocol, "calls", ref.calls)
	ours, err := server(ctx, o, log, bin, addr, protocol, "bench-server-"+suffix)
	if err != nil {
		return []result{ref}, err
	}
	return []result{ref, ours}, nil
}

// startDevice connects the device: online, then answering every request
// on either convention, as the demo lamp does.
func startDevice(ctx context.Context, protocol, addr, id string) (endpoint, error) {
	var dev endpoint
	ready := make(chan struct{})
	answer := func(m received) {
		<-ready
		topic := m.responseTopic
		if topic == "" {
			topic = responseTopicOf(m.topic)
		}
		var req struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(m.payload, &req)
		payload, _ := json.Marshal(map[string]any{"state": "on", "method": req.Method})
		go func() {
			pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = dev.publish(pctx, topic, payload, false, "", m.correlation)
		}()
	}
	dev, err := connect(ctx, protocol, addr, id, answer)
	if err != nil {
		return nil, err
	}
	close(ready)
	for _, f := range []string{"device/" + deviceID + "/request/+", refPrefix + "/request/+"} {
		if err := dev.subscribe(ctx, f); err != nil {
			dev.close()
			return nil, err
		}
	}
	if err := dev.publish(ctx, "device/"+deviceID+"/availability", []byte("online"), true, "", nil); err != nil {
		dev.close()
		return nil, err
	}
	return dev, nil
}

// loop runs clients closed-loop callers of call for d after a 1 s
// warm-up, and collects their latencies.
func loop(ctx context.Context, clients int, d time.Duration, call func(worker, seq int) error) (result, error) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		firstErr  atomic.Pointer[error]
		wg        sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(time.Second), start.Add(time.Second+d)
	for w := 0; w < clients; w++ {
		wg.Go(func() {
			var mine []time.Duration
			for seq := 0; ctx.Err() == nil && firstErr.Load() == nil; seq++ {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				if err := call(w, seq); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					break
				}
				if t0.After(measureFrom) {
					mine = append(mine, time.Since(t0))
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		return result{}, *p
	}
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	slices.Sort(latencies)
	return result{calls: len(latencies), elapsed: d, latencies: latencies}, nil
}

// reference is the same request/response between a bare client and the
// device, correlated by topic (3.1.1) or Correlation Data (5).
func reference(ctx context.Context, o options, protocol, addr, id string) (result, error) {
	var waiters sync.Map // request id -> chan struct{}
	req, err := connect(ctx, protocol, addr, id, func(m received) {
		rid := string(m.correlation)
		if rid == "" {
			rid = m.topic[strings.LastIndexByte(m.topic, '/')+1:]
		}
		if ch, ok := waiters.LoadAndDelete(rid); ok {
			close(ch.(chan struct{}))
		}
	})
	if err != nil {
		return result{}, err
	}
	defer req.close()
	if err := req.subscribe(ctx, refPrefix+"/response/+"); err != nil {
		return result{}, err
	}
	payload := []byte(`{"method": "get_state", "params": {}}`)
	res, err := loop(ctx, o.clients, o.duration, func(w, seq int) error {
		rid := fmt.Sprintf("r%d-%d", w, seq)
		ch := make(chan struct{})
		waiters.Store(rid, ch)
		cctx, cancel := context.WithTimeout(ctx, callTimeout*time.Second)
		defer cancel()
		if err := req.publish(cctx, refPrefix+"/request/"+rid, payload, false, refPrefix+"/response/"+rid, []byte(rid)); err != nil {
			return err
		}
		select {
		case <-ch:
			return nil
		case <-cctx.Done():
			return fmt.Errorf("%w: the device did not answer request %s", benchproc.ErrFunctional, rid)
		}
	})
	res.protocol, res.path = protocol, "bare MQTT request/response"
	return res, err
}

// server measures iot.device.call over XML-RPC.
func server(ctx context.Context, o options, log *slog.Logger, bin, addr, protocol, clientID string) (result, error) {
	dbURL := ""
	switch o.db {
	case "sqlite":
		dir, err := os.MkdirTemp("", "oim-bench-cmd-")
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
		dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
	default:
		u, err := benchproc.RecreateDatabase(ctx, o.pg, benchDB)
		if err != nil {
			return result{}, err
		}
		dbURL = u
	}
	srv, err := benchproc.StartServer(ctx, bin, dbURL)
	if err != nil {
		return result{}, err
	}
	defer srv.Stop()
	c, err := benchrpc.Dial(srv.URL())
	if err != nil {
		return result{}, err
	}
	defer c.Close()
	devID, err := setUp(ctx, c, addr, protocol, clientID)
	if err != nil {
		return result{}, srv.Check(err)
	}
	log.Info("Server ready", "protocol", protocol, "device", devID)
	callers := make([]*benchrpc.Client, o.clients)
	for i := range callers {
		if callers[i], err = benchrpc.Dial(srv.URL()); err != nil {
			return result{}, err
		}
		defer callers[i].Close()
	}
	var calls atomic.Int64
	res, err := loop(ctx, o.clients, o.duration, func(w, _ int) error {
		out, err := callers[w].Call("iot.device", "call", []any{[]any{devID}, "get_state", map[string]any{}, callTimeout}, nil)
		if err != nil {
			return srv.Check(err)
		}
		if m, ok := out.(map[string]any); !ok || m["state"] != "on" {
			return fmt.Errorf("%w: iot.device.call returned %#v, not the device's answer", benchproc.ErrFunctional, out)
		}
		calls.Add(1)
		return nil
	})
	res.protocol, res.path = protocol, "iot.device.call over XML-RPC"
	if err != nil {
		return res, err
	}
	n, err := c.Call("iot.command", "search_count", []any{[]any{[]any{"status", "=", "succeeded"}}}, nil)
	if err != nil {
		return res, err
	}
	if n != calls.Load() {
		return res, fmt.Errorf("%w: %d calls returned, %v iot.command rows succeeded", benchproc.ErrFunctional, calls.Load(), n)
	}
	return res, nil
}

// setUp creates the broker, starts the service and waits for the device
// record, online.
func setUp(ctx context.Context, c *benchrpc.Client, addr, protocol, clientID string) (int64, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	proto := map[string]string{"3.1.1": "MQTTv311", "5": "MQTTv5"}[protocol]
	broker, err := c.Create("mqtt.broker", map[string]any{"name": "Bench Mosquitto", "host": host, "port": port,
		"client_id": clientID, "protocol": proto, "device_discovery": true})
	if err != nil {
		return 0, err
	}
	if _, err := c.Call("mqtt.service", "start_mqtt_service", nil, nil); err != nil {
		return 0, err
	}
	var devID int64
	err = benchproc.Poll(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		out, err := c.Call("iot.device", "search_read", []any{[]any{[]any{"broker_id", "=", broker}, []any{"identifier", "=", deviceID}}},
			map[string]any{"fields": []any{"connected"}})
		rows, _ := out.([]any)
		if err != nil || len(rows) != 1 {
			return false, err
		}
		row, _ := rows[0].(map[string]any)
		devID, _ = row["id"].(int64)
		return row["connected"] == true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("the device did not show online: %w", err)
	}
	return devID, nil
}
