package models

import (
	"fmt"
	"testing"
	"time"
)

// TestPartitionGaps: the ranges ensurePartitions fills are exactly the
// parts of the wanted span no partition covers, whatever the partitions'
// grains; and the names follow the grain.
func TestPartitionGaps(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	p := func(from, to time.Time) partition { return partition{Name: "p", From: from, To: to} }
	def := partition{Name: "default", Default: true}
	tests := []struct {
		name     string
		parts    []partition
		from, to time.Time
		want     string
	}{
		{"none", nil, d(12, 4), d(12, 8), "[[12-04 12-08]]"},
		{"default only", []partition{def}, d(12, 4), d(12, 6), "[[12-04 12-06]]"},
		{"all covered", []partition{def, p(d(12, 4), d(12, 5)), p(d(12, 5), d(12, 6))}, d(12, 4), d(12, 6), "[]"},
		{"a month covers the days", []partition{p(d(12, 1), d(1, 1).AddDate(1, 0, 0))}, d(12, 30), d(1, 3).AddDate(1, 0, 0), "[[01-01 01-03]]"},
		{"hole in the middle", []partition{p(d(12, 4), d(12, 5)), p(d(12, 6), d(12, 7))}, d(12, 4), d(12, 8), "[[12-05 12-06] [12-07 12-08]]"},
		{"legacy ends mid-span", []partition{p(d(10, 1), d(12, 5))}, d(12, 4), d(12, 7), "[[12-05 12-07]]"},
		{"partitions after the span", []partition{p(d(12, 10), d(12, 11))}, d(12, 4), d(12, 6), "[[12-04 12-06]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][2]string
			for _, g := range gaps(tt.parts, tt.from, tt.to) {
				got = append(got, [2]string{g[0].Format("01-02"), g[1].Format("01-02")})
			}
			if s := fmt.Sprint(got); s != tt.want {
				t.Errorf("gaps = %s, want %s", s, tt.want)
			}
		})
	}
	for _, n := range []struct {
		g    Grain
		from time.Time
		want string
	}{
		{GrainDay, d(12, 4), "h_p20261204"},
		{GrainMonth, d(12, 1), "h_p202612"},
		{GrainMonth, d(12, 5), "h_p20261205"},
		{GrainDay, d(12, 4).Add(90 * time.Minute), "h_p20261204T013000"},
	} {
		if got := partitionName("h", n.g, n.from); got != n.want {
			t.Errorf("partitionName(%s, %v) = %s, want %s", n.g, n.from, got, n.want)
		}
	}
}
