package main

import (
	"strings"
	"testing"
)

// TestConfigSecretKey: where the key file is by default, and a bad
// --secret-key refused without quoting it.
func TestConfigSecretKey(t *testing.T) {
	files := []struct{ db, file, want string }{
		{"sqlite:data/odoo-iot-mqtt.db", "", "data/odoo-iot-mqtt.db.key"},
		{"sqlite:/var/lib/iot/db.sqlite", "", "/var/lib/iot/db.sqlite.key"},
		{"postgres://odoo@db/iot", "", "data/odoo-iot-mqtt.key"},
		{"postgres://odoo@db/iot", "/etc/odoo-iot-mqtt/key", "/etc/odoo-iot-mqtt/key"},
	}
	for _, f := range files {
		c := DefaultConfig()
		c.DB, c.SecretKeyFile = f.db, f.file
		if got := c.KeyFile(); got != f.want {
			t.Errorf("KeyFile(db %s, file %q) = %q, want %q", f.db, f.file, got, f.want)
		}
	}
	const good = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	for _, v := range []string{good, good + "," + good} {
		if _, err := LoadConfig([]string{"--secret-key", v}, nil); err != nil {
			t.Errorf("--secret-key %q: %v", v, err)
		}
	}
	for _, v := range []string{"not-base64-s3cret", "c2hvcnQtczNjcmV0", good + ",s3cret"} {
		_, err := LoadConfig(nil, []string{"ODOO_IOT_MQTT_SECRET_KEY=" + v})
		if err == nil || !strings.Contains(err.Error(), "--secret-key: want one or more comma-separated keys") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("--secret-key %q: %v", v, err)
		}
	}
	c := DefaultConfig()
	c.SecretKey = good
	for _, line := range c.Redacted() {
		if strings.HasPrefix(line, "secret-key=") && line != "secret-key=<redacted>" {
			t.Errorf("Redacted() shows %q", line)
		}
	}
}
