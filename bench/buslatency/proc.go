package main

// Resource figures from /proc (Linux) and the server's /metrics: CPU time
// of each party (the bench, the server, PostgreSQL's processes for the
// bench database, Mosquitto), so that a figure can be read on a machine
// where they all share the same cores.

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party, cumulative at a snapshot, or spent over a
// window after minus.
type usage struct {
	bench, server, postgres, mosquitto time.Duration
}

func (u usage) minus(v usage) usage {
	return usage{u.bench - v.bench, u.server - v.server, u.postgres - v.postgres, u.mosquitto - v.mosquitto}
}

// snapshot reads the counters; one that cannot be read stays 0.
func (b *bench) snapshot() usage {
	var u usage
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.bench = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	u.server = benchproc.ProcCPU(b.srv.PID())
	u.mosquitto = benchproc.ProcCPU(b.broker.PID())
	if comms, err := filepath.Glob("/proc/[0-9]*/comm"); err == nil {
		for _, p := range comms {
			if c, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(c)) == "postgres" {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				if benchPostgres(pid) {
					u.postgres += benchproc.ProcCPU(pid)
				}
			}
		}
	}
	return u
}

// benchPostgres tells a PostgreSQL process working for the bench database
// (or a shared writer) from its title; backends of other databases (other
// test suites on the machine) are not counted.
func benchPostgres(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	title := strings.ReplaceAll(string(b), "\x00", " ")
	for _, k := range []string{" " + benchDB + " ", "walwriter", "checkpointer", "background writer"} {
		if strings.Contains(title, k) {
			return true
		}
	}
	return false
}

// cores is CPU time over wall time: 1.0 is one core busy all along.
func cores(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}

// scrapeMetrics reads the server's /metrics into name → value, summed
// over labels, without the odoo_iot_mqtt_ prefix; nil when unavailable.
func scrapeMetrics(base string) map[string]float64 {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	values := map[string]float64{}
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
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			values[strings.TrimPrefix(name, "odoo_iot_mqtt_")] += v
		}
	}
	return values
}

// loadAverage is the first three fields of /proc/loadavg, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
