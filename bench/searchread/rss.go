package main

// Resource figures read from /proc (Linux): the server's resident memory,
// and the CPU time the bench itself, the server and PostgreSQL spend, so
// that a slow path can be attributed on a machine where all three share
// the same cores.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
)

// usage is CPU time per party, cumulative at a snapshot, or spent over a
// window after minus. CPU per request hardly depends on what else runs on
// the machine, unlike requests per second.
type usage struct {
	bench, server, postgres time.Duration
}

func (u usage) minus(v usage) usage {
	return usage{u.bench - v.bench, u.server - v.server, u.postgres - v.postgres}
}

func (u usage) plus(v usage) usage {
	return usage{u.bench + v.bench, u.server + v.server, u.postgres + v.postgres}
}

// statSource reads the CPU counters of the bench, the server and every
// process named "postgres" (meaningful when PostgreSQL runs on this
// machine; 0 otherwise).
type statSource struct {
	serverPID int
}

// snapshot reads the counters; a counter that can't be read stays 0.
func (s *statSource) snapshot() usage {
	var u usage
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.bench = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	u.server = benchproc.ProcCPU(s.serverPID)
	if pids, err := filepath.Glob("/proc/[0-9]*/comm"); err == nil {
		for _, p := range pids {
			if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == "postgres" {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				u.postgres += benchproc.ProcCPU(pid)
			}
		}
	}
	return u
}
