package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// report prints each path's figures, and per protocol the server's rate
// as a ratio of the reference's.
func report(w io.Writer, o options, res []result) {
	fmt.Fprintf(w, "commandrtt: %d closed-loop callers per path, %s each, server on %s\n\n", o.clients, o.duration, o.db)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MQTT\tpath\tcalls\tcalls/s\tp50\tp99\tratio\t")
	refs := map[string]float64{}
	for _, r := range res {
		ratio := "(reference)"
		if ref, ok := refs[r.protocol]; ok && ref > 0 {
			ratio = fmt.Sprintf("%.2fx", r.rate()/ref)
		} else {
			refs[r.protocol] = r.rate()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%s\t%s\t\n", r.protocol, r.path, r.calls, r.rate(), ms(r.quantile(0.5)), ms(r.quantile(0.99)), ratio)
	}
	tw.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
