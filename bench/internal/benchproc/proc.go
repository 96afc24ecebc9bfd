package benchproc

// Process figures read from /proc.

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

// ProcStatusKB reads one "Key:   123 kB" line of /proc/<pid>/status.
func ProcStatusKB(pid int, key string) (int64, error) {
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

// RSSSampler records the peak VmRSS of a process.
type RSSSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak int64
}

// StartRSSSampler samples the VmRSS of pid every interval until Stop.
func StartRSSSampler(pid int, every time.Duration) *RSSSampler {
	s := &RSSSampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if kb, err := ProcStatusKB(pid, "VmRSS"); err == nil {
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

// Stop ends sampling and returns the peak in kB.
func (s *RSSSampler) Stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.peak
}

// ProcCPU is utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms
// (USER_HZ is 100 on Linux).
func ProcCPU(pid int) time.Duration {
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

// SelfCPU is the user and system CPU time of this process (the bench), 0
// if it cannot be read.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PostgresCPU sums ProcCPU over the processes named "postgres" on this
// machine (0 when PostgreSQL runs elsewhere). With db set, it counts only
// the backends connected to db and the shared writers (WAL writer,
// checkpointer, background writer), told from their titles ("postgres:
// 15/main: postgres oim_bench_mqtt 127.0.0.1(5432) idle"): other test
// suites on the machine use PostgreSQL too. With db empty, it counts all.
func PostgresCPU(db string) time.Duration {
	comms, err := filepath.Glob("/proc/[0-9]*/comm")
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, p := range comms {
		if c, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(c)) == "postgres" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			if db == "" || postgresFor(pid, db) {
				sum += ProcCPU(pid)
			}
		}
	}
	return sum
}

// postgresFor tells a PostgreSQL process working for db, or a shared
// writer, from its title.
func postgresFor(pid int, db string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	title := strings.ReplaceAll(string(b), "\x00", " ")
	for _, k := range []string{" " + db + " ", "walwriter", "checkpointer", "background writer"} {
		if strings.Contains(title, k) {
			return true
		}
	}
	return false
}

// LoadAverage is the first three fields of /proc/loadavg, or "?".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// Usage is CPU time per party, cumulative at a snapshot, or spent over a
// window after Minus. CPU per message or request hardly depends on what
// else runs on the machine, unlike throughput. A party a command does not
// measure stays 0.
type Usage struct {
	Bench, Server, Postgres, Mosquitto time.Duration
}

// Minus is the time spent from v to u.
func (u Usage) Minus(v Usage) Usage {
	return Usage{u.Bench - v.Bench, u.Server - v.Server, u.Postgres - v.Postgres, u.Mosquitto - v.Mosquitto}
}

// Plus adds the time of two windows.
func (u Usage) Plus(v Usage) Usage {
	return Usage{u.Bench + v.Bench, u.Server + v.Server, u.Postgres + v.Postgres, u.Mosquitto + v.Mosquitto}
}
