package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// rssTarget is what the README promises under any flood with the default
// bounds.
const rssTarget = 300 << 10 // kB

func report(w io.Writer, o options, results []result, loadAtStart string) {
	topics := "a subscription's topics"
	if o.device {
		topics = "device telemetry topics"
	}
	fmt.Fprintf(w, "\nfloodrss: %d-byte QoS 0 payloads on %s for %s from %d open-loop publishers, server on %s %s; load average %s at start, %s at end\n\n",
		o.size, topics, o.duration, o.publishers, o.db, strings.Join(o.args, " "), loadAtStart, benchproc.LoadAverage())
	fmt.Fprintf(w, "%16s  %11s  %11s  %9s  %9s  %9s  %9s  %9s  %7s\n",
		"server", "idle RSS MB", "peak RSS MB", "peak/idle", "vs 300 MB", "published", "received", "stored", "dropped")
	var lines []string
	for _, r := range results {
		status := ""
		if r.crashed {
			status = "  (exited)"
		}
		fmt.Fprintf(w, "%16s  %11.1f  %11.1f  %9.1f  %9.2f  %9d  %9.0f  %9.0f  %7.0f%s\n",
			r.name, mb(r.idleKB), mb(r.peakKB), ratio(r.peakKB, r.idleKB), ratio(r.peakKB, rssTarget),
			r.published, r.received, r.stored, r.dropped, status)
		key := "server"
		if r.name != "this checkout" {
			key = "baseline_" + strings.NewReplacer(" ", "_", "/", "_", "-", "_").Replace(r.name)
		}
		lines = append(lines, fmt.Sprintf("%s_peak_rss_mb=%.0f %s_peak_vs_idle_ratio=%.1f", key, mb(r.peakKB), key, ratio(r.peakKB, r.idleKB)))
	}
	fmt.Fprintln(w)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
