package main

// Resource figures read from /proc (Linux): the server's resident memory,
// and the CPU time spent by the bench itself, the server, PostgreSQL and
// Mosquitto, so that a slow case can be attributed on a machine where
// they all share the same cores.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party, cumulative at a snapshot, or spent over a
// window after minus. CPU per message hardly depends on what else runs on
// the machine, unlike messages per second.
type usage struct {
	bench, server, postgres, mosquitto time.Duration
}

func (u usage) minus(v usage) usage {
	return usage{u.bench - v.bench, u.server - v.server, u.postgres - v.postgres, u.mosquitto - v.mosquitto}
}

// statSource reads the CPU counters of the bench, the server (pid 0: none),
// Mosquitto and PostgreSQL when it runs on this machine (0 otherwise).
// PostgreSQL counts the backends connected to the bench database and the
// shared writers (WAL writer, checkpointer, background writer), not the
// backends of other databases: other test suites on the machine use it too.
type statSource struct {
	server, mosquitto int
}

// snapshot reads the counters; a counter that can't be read stays 0.
func (s statSource) snapshot() usage {
	var u usage
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.bench = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if s.server != 0 {
		u.server = benchproc.ProcCPU(s.server)
	}
	u.mosquitto = benchproc.ProcCPU(s.mosquitto)
	if pids, err := filepath.Glob("/proc/[0-9]*/comm"); err == nil {
		for _, p := range pids {
			if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == "postgres" {
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
// from its title ("postgres: 15/main: postgres oim_bench_mqtt 127.0.0.1(5432) idle").
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
