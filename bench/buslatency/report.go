package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// report prints the latency table, the fan-out table, key=value lines and
// the targets (met or not met: a missed target never fails the run).
func (b *bench) report(w io.Writer) {
	o := b.o
	fmt.Fprintf(w, "\nbuslatency: server on PostgreSQL (bus through bus_batch + LISTEN/NOTIFY), Mosquitto defaults, QoS 0; %d CPUs, load average %s at start, %s at end\n",
		runtime.NumCPU(), b.startLoad, benchproc.LoadAverage())
	var kv []string
	if l := b.latency; l != nil {
		fmt.Fprintf(w, "\nlatency: %d msg/s for %s after %s of warm-up, over %d devices; %d pollers on devices 0-%d (%d of every %d messages)\n",
			o.rate, o.duration, o.warmup, o.devices, o.pollers, max(o.pollers-1, 0), o.pollers, o.devices)
		fmt.Fprintf(w, "publisher: %d sent in %s (%.0f msg/s), at most %s behind its schedule\n\n",
			l.pub.sent, l.pub.end.Sub(l.pub.start).Round(time.Millisecond), l.pub.rate(), ms(l.pub.maxLag))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "path\texpected\treceived\tlost\tdup\tp50\tp90\tp99\tmax\tp50 - ref\tp99 - ref\tp99 / ref\t")
		ref := l.paths[0]
		for i, p := range l.paths {
			d50, d99, r99 := "-", "-", "-"
			if i > 0 {
				d50 = ms(p.h.quantile(0.5) - ref.h.quantile(0.5))
				d99 = ms(p.h.quantile(0.99) - ref.h.quantile(0.99))
				r99 = ratio(float64(p.h.quantile(0.99)), float64(ref.h.quantile(0.99)))
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.name, p.expected, p.received, p.lost(), p.dup,
				ms(p.h.quantile(0.5)), ms(p.h.quantile(0.9)), ms(p.h.quantile(0.99)), ms(p.h.max), d50, d99, r99)
		}
		tw.Flush()
		u, n := l.usage, float64(max(l.pub.sent, 1))
		fmt.Fprintf(w, "\nserver: peak RSS %s MB; CPU over %s, in cores (µs per message): server %.2f (%.0f), postgres %.2f (%.0f), mosquitto %.2f (%.0f), bench %.2f (%.0f)\n",
			mb(l.peakRSS), l.wall.Round(time.Millisecond), cores(u.Server, l.wall), us(u.Server, n), cores(u.Postgres, l.wall), us(u.Postgres, n),
			cores(u.Mosquitto, l.wall), us(u.Mosquitto, n), cores(u.Bench, l.wall), us(u.Bench, n))
		fmt.Fprintf(w, "polls: %d requests for %d events; Mosquitto dropped messages for the server: %s\n", l.polls, l.paths[2].received, yesNo(l.dropped))
		if l.pollErr != "" {
			fmt.Fprintf(w, "last poll error: %s\n", l.pollErr)
		}
		fmt.Fprintf(w, "/metrics: %s\n", metricsLine(l.metrics))
		for i, key := range []string{"reference", "websocket", "poll"} {
			p := l.paths[i]
			kv = append(kv, fmt.Sprintf("latency_%s_p50_ms=%.2f latency_%s_p99_ms=%.2f latency_%s_lost=%d", key, msf(p.h.quantile(0.5)),
				key, msf(p.h.quantile(0.99)), key, p.lost()))
		}
		kv = append(kv, fmt.Sprintf("latency_server_peak_rss_mb=%.0f", float64(l.peakRSS)/1024))
	}
	if len(b.fanout) > 0 {
		fmt.Fprintf(w, "\nfan-out: %d WebSocket clients on %d sessions subscribed to mqtt_realtime, %s per step; server VmRSS with them connected and idle: %s MB\n\n",
			b.fanout[0].clients, o.sessions, o.fanoutDuration, mb(b.idleRSS))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "msg/s\tpublished\texpected\tdelivered\tdelivered/s\tlost\tclients with loss\tleast per client\tp50\tp99\tmax\tpeak RSS MB\tCPU cores: server\tpostgres\tbench\tserver µs/note\t")
		for _, r := range b.fanout {
			wall := r.wall
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.0f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t\n",
				r.rate, r.pub.sent, r.expected(), r.delivered, r.rateDelivered(), max(0, r.expected()-r.delivered), r.lossy, r.minGot,
				ms(r.h.quantile(0.5)), ms(r.h.quantile(0.99)), ms(r.h.max), mb(r.peakRSS),
				cores(r.usage.Server, wall), cores(r.usage.Postgres, wall), cores(r.usage.Bench, wall), us(r.usage.Server, float64(max(r.delivered, 1))))
		}
		tw.Flush()
		fmt.Fprintf(w, "duplicates: %d; sockets that ended before the bench closed them: %d", b.fanoutDup, b.fanoutClosed)
		if b.fanoutSockErr != "" {
			fmt.Fprintf(w, " (last: %s)", b.fanoutSockErr)
		}
		fmt.Fprintln(w)
		last := b.fanout[len(b.fanout)-1]
		fmt.Fprintf(w, "/metrics after the last step: %s\n", metricsLine(last.metrics))
		var peak int64
		for _, r := range b.fanout {
			peak = max(peak, r.peakRSS)
			kv = append(kv, fmt.Sprintf("fanout_%d_delivered_per_s=%.0f fanout_%d_lost=%d fanout_%d_p50_ms=%.2f fanout_%d_p99_ms=%.2f", r.rate, r.rateDelivered(),
				r.rate, max(0, r.expected()-r.delivered), r.rate, msf(r.h.quantile(0.5)), r.rate, msf(r.h.quantile(0.99))))
		}
		kv = append(kv, fmt.Sprintf("fanout_clients=%d fanout_idle_rss_mb=%.0f fanout_peak_rss_mb=%.0f", last.clients, float64(b.idleRSS)/1024, float64(peak)/1024))
	}
	if len(kv) > 0 {
		fmt.Fprintln(w)
		for _, l := range kv {
			fmt.Fprintln(w, l)
		}
	}
	if l := b.latency; l != nil {
		fmt.Fprintln(w, "\ntargets (reported, never failed on):")
		for _, p := range l.paths[1:] {
			target(w, fmt.Sprintf("%s: p99 < %s at %d msg/s", p.name, o.targetP99, o.rate), p.received > 0 && p.h.quantile(0.99) < o.targetP99,
				fmt.Sprintf("p99 %s, %d lost", ms(p.h.quantile(0.99)), p.lost()))
		}
	}
}

// metricsLine picks the server metrics that explain a bus figure.
func metricsLine(m map[string]float64) string {
	if m == nil {
		return "unavailable"
	}
	var parts []string
	for _, k := range []string{"bus_notes_published_total", "bus_notes_dropped_total", "bus_slow_subscribers_total", "bus_websockets", "messages_dropped_total"} {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%g", k, v))
		}
	}
	if c, s := m["ingest_commit_seconds_count"], m["ingest_commit_seconds_sum"]; c > 0 {
		parts = append(parts, fmt.Sprintf("ingest commits %g, mean %.1f ms", c, s/c*1000))
	}
	if c, s := m["ingest_batch_size_count"], m["ingest_batch_size_sum"]; c > 0 {
		parts = append(parts, fmt.Sprintf("mean batch %.1f messages", s/c))
	}
	if len(parts) == 0 {
		return "no bus metrics"
	}
	return strings.Join(parts, " ")
}

func target(w io.Writer, what string, met bool, got string) {
	verdict := "not met"
	if met {
		verdict = "met"
	}
	fmt.Fprintf(w, "  %-62s %-8s (%s)\n", what, verdict, got)
}

func ratio(v, ref float64) string {
	if ref <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v/ref)
}

func mb(kb int64) string { return fmt.Sprintf("%.1f", float64(kb)/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", msf(d)) }

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// us is d per n, in µs.
func us(d time.Duration, n float64) float64 { return float64(d) / float64(time.Microsecond) / n }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
