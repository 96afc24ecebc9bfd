package listener

import (
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestRetentionMaintainsPartitions: on PostgreSQL the retention loop
// makes the history's partitions ahead of time while the service runs: a
// partition missing (here: dropped behind its back) is back within a
// period, with no MQTT service started. SQLite has none to make.
func TestRetentionMaintainsPartitions(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		if kind != "postgres" {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			modelstest.CheckLeaks(t)
			h := newHarness(t, kind, Options{PurgeInterval: 100 * time.Millisecond})
			name := "mqtt_signal_history_p" + time.Now().UTC().AddDate(0, 0, 3).Format("20060102")
			db := h.reg.DB()
			exists := func() bool {
				var n int64
				if err := db.Raw(`SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass(?)`, name).Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n == 1
			}
			if !exists() {
				t.Fatalf("%s missing after Migrate", name)
			}
			if err := db.Exec(`DROP TABLE ` + name).Error; err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, 10*time.Second, "the partition made again", exists)
			h.stop()
		})
	}
}
