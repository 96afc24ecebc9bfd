package main

// Resource figures read from /proc (Linux): the server's resident memory,
// and the CPU time spent by the bench itself, the server, PostgreSQL and
// Mosquitto, so that a slow case can be attributed on a machine where
// they all share the same cores.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procStatusKB reads one "Key:   123 kB" line of /proc/<pid>/status.
func procStatusKB(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == key {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

// rssSampler records the peak VmRSS of a process.
type rssSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak int64
}

func startRSSSampler(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if kb, err := procStatusKB(pid, "VmRSS"); err == nil {
				s.peak = max(s.peak, kb)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends sampling and returns the peak in kB.
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.peak
}

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
		u.server = procCPU(s.server)
	}
	u.mosquitto = procCPU(s.mosquitto)
	if pids, err := filepath.Glob("/proc/[0-9]*/comm"); err == nil {
		for _, p := range pids {
			if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == "postgres" {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				if benchPostgres(pid) {
					u.postgres += procCPU(pid)
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

// procCPU is utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms
// (USER_HZ is 100 on Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the ")" closing comm: state is field 3, utime 14, stime 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
