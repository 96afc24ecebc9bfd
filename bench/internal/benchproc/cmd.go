package benchproc

// What every benchmark command does around its measure: exit codes, the
// server binary, and waiting for a condition.

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

// Main runs run under a context that an interrupt cancels, and exits 1
// with "name: FAIL: err" when it fails.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+": FAIL:", err)
		os.Exit(1)
	}
}

// UsageError exits 2 with "name: err", for flags that do not make sense.
func UsageError(name string, err error) {
	fmt.Fprintln(os.Stderr, name+":", err)
	os.Exit(2)
}

// ServerBinary is bin when set (the -bin flag), else ./server built from
// this checkout; cleanup removes what was built.
func ServerBinary(ctx context.Context, bin string) (path string, cleanup func(), err error) {
	if bin != "" {
		return bin, func() {}, nil
	}
	return BuildServer(ctx)
}

// Poll calls check every interval until it returns true or an error, or
// limit passes (a functional failure: what it waits for never came).
func Poll(ctx context.Context, limit, every time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := check()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: still waiting after %s", ErrFunctional, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// IntList parses a flag's comma-separated integers, each in lo..hi;
// empty items are skipped.
func IntList(flagName, s string, lo, hi int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("-%s: %q is not in %d..%d", flagName, f, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}
