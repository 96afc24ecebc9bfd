package benchproc

// Process figures read from /proc.

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
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

// stop ends sampling and returns the peak in kB.
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
