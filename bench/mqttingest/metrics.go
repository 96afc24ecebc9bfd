package main

// The server's own view of a case, from its Prometheus /metrics when it
// has one: batch sizes, commit latency, drops. It explains a slow figure
// (one row per commit, say); it never decides the outcome.

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scrapeMetrics summarises the histograms and counters about batches,
// commits, queue depth and drops, or returns "" when there is no /metrics.
func scrapeMetrics(base string) string {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return ""
	}
	values := map[string]float64{} // metric name, summed over its labels
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "{")
		name = strings.TrimPrefix(name, "odoo_iot_mqtt_")
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			values[name] += v
		}
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
