package web

import (
	"regexp"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

// TestChannelsMatchServer keeps static/channels.js, where the pages name
// the bus channels and note types, in step with the addons that send
// them: a renamed channel on one side would leave the pages silent.
func TestChannelsMatchServer(t *testing.T) {
	src := jsFiles(t)["channels.js"]
	entry := regexp.MustCompile(`export const (\w+) = Object\.freeze\(\{([^}]*)\}\)`)
	field := regexp.MustCompile(`(\w+): '([^']*)'`)
	got := map[string]map[string]string{}
	for _, m := range entry.FindAllStringSubmatch(src, -1) {
		got[m[1]] = map[string]string{}
		for _, f := range field.FindAllStringSubmatch(m[2], -1) {
			got[m[1]][f[1]] = f[2]
		}
	}
	want := map[string]map[string]string{
		"realtime": {"channel": mqtt.ChannelRealtime, "message": mqtt.NoteMessage},
		"listener": {"channel": mqtt.ChannelListener, "state": mqtt.NoteListenerState},
		"devices": {"channel": iotdevice.ChannelDevices, "event": iotdevice.NoteDeviceEvent, "update": iotdevice.NoteDeviceUpdate,
			"command": iotdevice.NoteCommand},
		"rules": {"channel": rules.ChannelRules, "fired": rules.NoteFired},
	}
	if len(got) != len(want) {
		t.Errorf("channels.js declares %v, want %v", got, want)
	}
	for name, fields := range want {
		for k, v := range fields {
			if got[name][k] != v {
				t.Errorf("channels.js %s.%s = %q, the server sends %q", name, k, got[name][k], v)
			}
		}
	}
}
