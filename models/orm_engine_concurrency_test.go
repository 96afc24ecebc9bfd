package models

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestEngineConcurrentWriters: calls that read then write, running at
// once, all succeed. On SQLite a deferred transaction would fail with
// SQLITE_BUSY when it upgrades to a writer; ours begin IMMEDIATE and
// queue instead.
func TestEngineConcurrentWriters(t *testing.T) {
	forEachEngineDB(t, func(t *testing.T, r *engineReg) {
		ctx := context.Background()
		const workers, each = 6, 10
		exec := func(method string, args ...any) (any, error) {
			return r.Execute(ctx, Call{UID: AdminUID, Model: "test.order", Method: method, Args: args})
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					name := fmt.Sprintf("w%d-%d", w, i)
					id, err := exec("create", map[string]any{"name": name, "line_ids": []any{[]any{int64(0), int64(0), map[string]any{"qty": int64(i)}}}})
					if err == nil {
						_, err = exec("write", id, map[string]any{"note": name, "qty": int64(w)})
					}
					if err == nil {
						_, err = exec("search_read", []any{L("name", "=", name)}, []any{"note", "line_ids"})
					}
					if err != nil {
						errs <- fmt.Errorf("%s: %w", name, err)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n, err := exec("search_count", []any{L("note", "!=", false)})
		if err != nil || n != int64(workers*each) {
			t.Errorf("orders written = %v, %v; want %d", n, err, workers*each)
		}
		n, err = r.Execute(ctx, Call{UID: AdminUID, Model: "test.order.line", Method: "search_count", Args: []any{[]any{}}})
		if err != nil || n != int64(workers*each) {
			t.Errorf("lines = %v, %v; want %d", n, err, workers*each)
		}
	})
}
