package main

// Resource figures read from /proc (Linux): the server's resident memory,
// and the CPU time the bench itself, the server and PostgreSQL spend, so
// that a slow path can be attributed on a machine where all three share
// the same cores.

import (
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
	return usage{
		bench:    benchproc.SelfCPU(),
		server:   benchproc.ProcCPU(s.serverPID),
		postgres: benchproc.PostgresCPU(""),
	}
}
