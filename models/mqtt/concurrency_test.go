package mqtt_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestConcurrentWriters: calls that read then write, running at once, all
// succeed. On SQLite a deferred transaction would fail with SQLITE_BUSY
// when it upgrades to a writer; ours begin IMMEDIATE and queue instead.
func TestConcurrentWriters(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		ctx := context.Background()
		const workers, each = 6, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					name := fmt.Sprintf("w%d-%d", w, i)
					res, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{"name": name}}})
					if err == nil {
						_, err = r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "write", Args: []any{res, map[string]any{"note": name}}})
					}
					if err == nil {
						_, err = r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "search_read", Args: []any{[]any{[]any{"name", "=", name}}}})
					}
					if err != nil {
						errs <- err
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n, err := r.Execute(ctx, models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "search_count", Args: []any{[]any{[]any{"note", "!=", false}}}})
		if err != nil || n != int64(workers*each) {
			t.Errorf("brokers written = %v, %v; want %d", n, err, workers*each)
		}
	})
}
