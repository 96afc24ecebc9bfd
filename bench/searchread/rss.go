package main

// Resource figures read from /proc (Linux): the server's resident memory,
// and the CPU time the bench itself, the server and PostgreSQL spend, so
// that a slow path can be attributed on a machine where all three share
// the same cores.

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
	u.server = procCPU(s.serverPID)
	if pids, err := filepath.Glob("/proc/[0-9]*/comm"); err == nil {
		for _, p := range pids {
			if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == "postgres" {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				u.postgres += procCPU(pid)
			}
		}
	}
	return u
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
