package models

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

func init() { declarations = append(declarations, mqttService) }

func now(*Env) any { return time.Now().UTC().Truncate(time.Second) }

// mqttService mirrors mqtt.service (seed-addon.md §1.5), the singleton row
// describing the listener service.
func mqttService() *Model {
	return &Model{
		Name: "mqtt.service", Description: "MQTT Service",
		Fields: []*Field{
			{Name: "name", Type: Char, String: "Service name", Readonly: true, Default: constant("MQTT Listener Service")},
			{Name: "last_start", Type: Datetime, String: "Last boot", Readonly: true},
			{Name: "status", Type: Selection, Readonly: true, Default: constant("stop"),
				Selection: []Choice{{"start", "Start"}, {"stop", "Stop"}, {"error", "Error"}}},
			{Name: "thread_identifier", Type: Char, Readonly: true},
			{Name: "host_info", Type: Char, NotStored: true, Compute: hostInfo},
			{Name: "connection_status", Type: Selection, Readonly: true, Default: constant("unknown"),
				Selection: []Choice{{"connected", "Connected"}, {"connecting", "Connecting"}, {"disconnected", "Disconnected"}, {"unknown", "Unknown"}}},
		},
		Access: map[string]string{GroupMQTTUser: "r", GroupMQTTManager: "rwcu"},
	}
}

// hostInfo is the addon's "<OS> <release>, PID: <pid>, Python: <version>"
// with Go in place of Python.
func hostInfo(*Env, *Record) (any, error) {
	return fmt.Sprintf("%s %s, PID: %d, Go: %s", runtime.GOOS, runtime.GOARCH, os.Getpid(), runtime.Version()), nil
}
