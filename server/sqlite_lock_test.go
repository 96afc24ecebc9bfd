package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteLock: a second lock on the same database file is refused
// with a message naming the file and the holder's pid; once the first is
// released the file can be locked again.
func TestSQLiteLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odoo.db")
	first, err := lockSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockSQLite(path)
	if err == nil {
		t.Fatal("a second lock on the same file was granted")
	}
	for _, want := range []string{path, fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	first.Close()
	again, err := lockSQLite(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Close()
}
