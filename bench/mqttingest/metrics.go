package main

// The server's own view of a case, from its Prometheus /metrics when it
// has one: batch sizes, commit latency, drops. It explains a slow figure
// (one row per commit, say); it never decides the outcome.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// scrapeMetrics summarises the histograms and counters about batches,
// commits, queue depth and drops, or returns "" when there is no /metrics.
func scrapeMetrics(base string) string {
	values := benchproc.ScrapeMetrics(base)
	if values == nil {
		return ""
	}
	interesting := func(n string) bool {
		for _, k := range []string{"batch", "commit", "dropped", "queue", "received", "ingest", "reconnect"} {
			if strings.Contains(n, k) && !strings.HasPrefix(n, "go_") && !strings.HasPrefix(n, "process_") {
				return true
			}
		}
		return false
	}
	var parts []string
	for name, v := range values {
		if !interesting(name) || strings.HasSuffix(name, "_bucket") || strings.HasSuffix(name, "_sum") {
			continue
		}
		if base, ok := strings.CutSuffix(name, "_count"); ok {
			if sum, ok := values[base+"_sum"]; ok && v > 0 {
				mean := sum / v
				unit := ""
				if strings.HasSuffix(base, "_seconds") {
					mean, unit = mean*1000, " ms"
				}
				parts = append(parts, fmt.Sprintf("%s: %.0f, mean %.3g%s", base, v, mean, unit))
				continue
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%g", name, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}
