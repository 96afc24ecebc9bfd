package mqtt

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

func now(*models.Env) any { return time.Now().UTC().Truncate(time.Second) }

// mqttService mirrors mqtt.service (seed-addon.md §1.5), the singleton row
// describing the listener service.
func (a *Addon) service() *models.Model {
	return &models.Model{
		Name: "mqtt.service", Description: "MQTT Service",
		Fields: []*models.Field{
			{Name: "name", Type: models.Char, String: "Service name", Readonly: true, Default: models.Constant("MQTT Listener Service")},
			{Name: "last_start", Type: models.Datetime, String: "Last boot", Readonly: true},
			{Name: "status", Type: models.Selection, Readonly: true, Default: models.Constant("stop"),
				Selection: models.Choices("start", "Start", "stop", "Stop", "error", "Error")},
			{Name: "thread_identifier", Type: models.Char, Readonly: true},
			{Name: "host_info", Type: models.Char, NotStored: true, Compute: hostInfo},
			{Name: "connection_status", Type: models.Selection, Readonly: true, Default: models.Constant("unknown"),
				Selection: models.Choices("connected", "Connected", "connecting", "Connecting", "disconnected", "Disconnected", "unknown", "Unknown")},
		},
		Access: map[string]string{GroupUser: "r", GroupManager: "rwcu"},
		Methods: map[string]*models.Method{
			"start_mqtt_service":   {Kind: models.ModelLevel, OwnTransactions: true, Fn: a.serviceStart},
			"stop_mqtt_service":    {Kind: models.ModelLevel, OwnTransactions: true, Fn: a.serviceStop},
			"restart_mqtt_service": {Kind: models.ModelLevel, OwnTransactions: true, Fn: a.serviceRestart},
			"check_mqtt_status":    {Kind: models.ModelLevel, OwnTransactions: true, Fn: a.serviceCheckStatus},
			"get_listener_status":  {Kind: models.ModelLevel, ReadOnly: true, Fn: a.serviceListenerStatus},
			"get_instances":        {Kind: models.ModelLevel, ReadOnly: true, Fn: a.serviceInstances},
		},
	}
}

// hostInfo is the addon's "<OS> <release>, PID: <pid>, Python: <version>"
// with Go in place of Python.
func hostInfo(*models.Env, *models.Record) (any, error) {
	return fmt.Sprintf("%s %s, PID: %d, Go: %s", runtime.GOOS, runtime.GOARCH, os.Getpid(), runtime.Version()), nil
}
