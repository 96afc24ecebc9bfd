package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// report prints the ingest table (figures summed per cluster size over
// the rounds, ratios against the first size), the failover distribution,
// then key=value lines.
func (b *bench) report(w io.Writer) {
	fmt.Fprintf(w, "\ncluster: %d QoS 1 messages per ingest case, publisher %d PUBACKs in flight, shared_group %q<case>, persistent sessions; %d CPUs, load average %s at start, %s at end\n\n",
		b.o.n, b.o.window, sharedGroup, runtime.NumCPU(), b.startLoad, benchproc.LoadAverage())
	type sum struct {
		n       int64
		elapsed time.Duration
		split   []int64
		server  time.Duration
		pg      time.Duration
	}
	sums := map[int]*sum{}
	for _, r := range b.ingest {
		s := sums[r.instances]
		if s == nil {
			s = &sum{split: make([]int64, r.instances)}
			sums[r.instances] = s
		}
		s.n += r.n
		s.elapsed += r.elapsed
		s.server += r.cpu.Server
		s.pg += r.cpu.Postgres
		for i, v := range r.split {
			s.split[i] += v
		}
	}
	var kv []string
	if len(sums) > 0 {
		ref := 0.0
		if s := sums[b.o.instances[0]]; s != nil {
			ref = float64(s.n) / s.elapsed.Seconds()
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "instances\tstored\tseconds\tmsgs/s\tvs 1st\tsplit %\tCPU µs/msg: servers\tpostgres\t")
		for _, n := range b.o.instances {
			s := sums[n]
			if s == nil {
				continue
			}
			rate := float64(s.n) / s.elapsed.Seconds()
			var split []string
			for _, v := range s.split {
				split = append(split, fmt.Sprintf("%.0f", 100*float64(v)/float64(s.n)))
			}
			per := func(d time.Duration) string {
				return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)/float64(s.n))
			}
			fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.0f\t%s\t%s\t%s\t%s\t\n", n, s.n, s.elapsed.Seconds(), rate, ratio(rate, ref), strings.Join(split, "/"), per(s.server), per(s.pg))
			kv = append(kv, fmt.Sprintf("ingest_msgs_per_s_%d=%.0f", n, rate))
			if n != b.o.instances[0] {
				kv = append(kv, fmt.Sprintf("ingest_ratio_%d_vs_%d=%s", n, b.o.instances[0], ratio(rate, ref)))
			}
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if f := b.failover; f != nil && len(f.store) > 0 {
		fmt.Fprintf(w, "failover: %d SIGKILLs of the owner, 3 instances, QoS 1 stream at %d msg/s with a persistent session; %d published, all stored once\n", len(f.store), b.o.rate, f.published)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kill ->\tmin ms\tp50 ms\tmax ms\t")
		for _, row := range []struct {
			name string
			ds   []time.Duration
		}{{"new owner seen", f.owner}, {"first row stored", f.store}} {
			lo, mid, hi := spread(row.ds)
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", row.name, lo.Milliseconds(), mid.Milliseconds(), hi.Milliseconds())
		}
		tw.Flush()
		lo, mid, hi := spread(f.store)
		kv = append(kv, fmt.Sprintf("failover_store_ms_min=%d", lo.Milliseconds()), fmt.Sprintf("failover_store_ms_p50=%d", mid.Milliseconds()),
			fmt.Sprintf("failover_store_ms_max=%d", hi.Milliseconds()))
		fmt.Fprintln(w)
	}
	for _, l := range kv {
		fmt.Fprintln(w, l)
	}
}

// spread is the min, the median (lower middle) and the max.
func spread(ds []time.Duration) (lo, mid, hi time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[0], s[(len(s)-1)/2], s[len(s)-1]
}

func ratio(v, ref float64) string {
	if ref <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/ref)
}
