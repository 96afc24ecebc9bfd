package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints the table, then one key=value line per headline figure.
// Ratios are against the direct-SQL row, measured in the same run.
func report(w io.Writer, o options, rs []result, hwmKB int64) {
	ref := rs[0].perSecond()
	fmt.Fprintf(w, "\nsearch_read of %d mqtt.signal.history rows out of %d, %d clients, %s per path in %d rounds, %d CPUs, load average %s\n\n",
		pageSize, o.rows, o.clients, o.duration, o.rounds, runtime.NumCPU(), loadAverage())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "path\trequests\treq/s\tp50\tp99\tvs SQL\tpeak RSS MB\tCPU ms/req: bench\tserver\tpostgres\t")
	var peak int64
	for i := range rs {
		r := &rs[i]
		rss := "-"
		if r.peakRSS > 0 {
			rss = fmt.Sprintf("%.1f", float64(r.peakRSS)/1024)
			peak = max(peak, r.peakRSS)
		}
		n := float64(max(r.requests(), 1))
		perReq := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)/n) }
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t\n",
			r.name, r.requests(), r.perSecond(), ms(r.percentile(0.50)), ms(r.percentile(0.99)), r.perSecond()/ref, rss,
			perReq(r.usage.Bench), perReq(r.usage.Server), perReq(r.usage.Postgres))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nserver VmHWM at end: %.1f MB (whole life of the process)\n\n", float64(hwmKB)/1024)
	for i := range rs[1:] {
		r := &rs[i+1]
		key := map[string]string{"XML-RPC": "xmlrpc", "JSON-RPC": "jsonrpc"}[r.name]
		fmt.Fprintf(w, "%s_vs_sql_ratio=%.2f\n", key, r.perSecond()/ref)
	}
	fmt.Fprintf(w, "server_peak_rss_mb=%.0f\n", float64(peak)/1024)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// loadAverage is the first three fields of /proc/loadavg, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
