package main

// SQLite stays single-instance (issue 12): the server holds an exclusive
// flock on "<database file>.lock" while it runs, so a second process on
// the same file refuses to start instead of both running every broker.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockSQLite takes the lock of the SQLite database at path; the file
// returned holds it until closed (or the process ends). It records this
// process's pid in the lock file, for the other process's message.
func lockSQLite(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the database %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			other := "another process"
			if b, rerr := os.ReadFile(name); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
					other = fmt.Sprintf("another server process (pid %d)", pid)
				}
			}
			return nil, fmt.Errorf("the SQLite database %s is in use by %s (lock %s): SQLite allows one instance; run several on PostgreSQL", path, other, name)
		}
		return nil, fmt.Errorf("lock the database %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
