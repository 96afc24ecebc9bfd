package mqtt

import (
	"fmt"
	"os"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The mqtt.service buttons, with the addon's return values (seed-addon.md
// §2.5). The service row is a singleton created on demand.

// serviceRow returns the id of the service row, creating it when create.
func serviceRow(env *models.Env, create bool) (int64, error) {
	m := env.Registry().Model("mqtt.service")
	ids, err := env.Sudo().Search(m, []any{}, 0, 1, "id")
	if err != nil || len(ids) > 0 || !create {
		if len(ids) == 0 {
			return 0, err
		}
		return ids[0], err
	}
	var id int64
	err = env.Registry().Transaction(env.Ctx, env.UID, env.Context, func(tx *models.Env) error {
		var err error
		id, err = tx.Sudo().Create(m, map[string]any{})
		return err
	})
	return id, err
}

// serviceControl is the preamble of the service buttons: the right to
// read or write the service (op), then the listener service.
func (a *Addon) serviceControl(env *models.Env, op byte) (BrokerControl, error) {
	if _, err := requireAccess(env, "mqtt.service", op); err != nil {
		return nil, err
	}
	return a.Control()
}

// serviceConnection summarises the daemons: connected when any is.
func serviceConnection(ctl BrokerControl) string {
	if !ctl.ServiceRunning() {
		return "disconnected"
	}
	for _, d := range ctl.Daemons() {
		if d.State == StateConnected {
			return "connected"
		}
	}
	return "connecting"
}

func (a *Addon) serviceStart(env *models.Env, _ []int64, _ models.Args) (any, error) {
	ctl, err := a.serviceControl(env, models.OpWrite)
	if err != nil {
		return nil, err
	}
	id, err := serviceRow(env, true)
	if err != nil {
		return nil, err
	}
	if serr := ctl.StartService(env.Ctx); serr != nil {
		werr := writeNow(env, "mqtt.service", []int64{id}, map[string]any{"status": "error", "thread_identifier": false, "connection_status": "disconnected"})
		a.log.Error("Unable to start the MQTT service", "error", serr)
		return false, werr
	}
	err = writeNow(env, "mqtt.service", []int64{id}, map[string]any{
		"status": "start", "last_start": time.Now().UTC(), "connection_status": serviceConnection(ctl),
		"thread_identifier": fmt.Sprintf("mqtt_service_%d_%d", os.Getpid(), time.Now().Unix()),
	})
	if err == nil {
		// Broker 0 is the service: the other instances of a cluster read
		// the status just written and start their daemons.
		ctl.BrokerChanged(env.Ctx, 0)
	}
	return true, err
}

func (a *Addon) serviceStop(env *models.Env, _ []int64, _ models.Args) (any, error) {
	ctl, err := a.serviceControl(env, models.OpWrite)
	if err != nil {
		return nil, err
	}
	id, err := serviceRow(env, false)
	if err != nil || id == 0 {
		return true, err
	}
	if serr := ctl.StopService(env.Ctx); serr != nil {
		werr := writeNow(env, "mqtt.service", []int64{id}, map[string]any{"status": "error", "connection_status": "unknown"})
		a.log.Error("Unable to stop the MQTT service", "error", serr)
		return false, werr
	}
	err = writeNow(env, "mqtt.service", []int64{id}, map[string]any{"status": "stop", "thread_identifier": false, "connection_status": "disconnected"})
	if err == nil {
		ctl.BrokerChanged(env.Ctx, 0) // the others stop theirs
	}
	return true, err
}

func (a *Addon) serviceRestart(env *models.Env, ids []int64, args models.Args) (any, error) {
	if ok, err := a.serviceStop(env, ids, args); err != nil || ok != true {
		return ok, err
	}
	return a.serviceStart(env, ids, args)
}

// serviceCheckStatus returns exactly the addon's status dicts.
func (a *Addon) serviceCheckStatus(env *models.Env, _ []int64, _ models.Args) (any, error) {
	ctl, err := a.serviceControl(env, models.OpRead)
	if err != nil {
		return nil, err
	}
	id, err := serviceRow(env, false)
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return map[string]any{"status": "not_configured", "message": "MQTT Service is not configured"}, nil
	}
	recs, err := env.Load(env.Registry().Model("mqtt.service"), []int64{id})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	switch {
	case recs[0].Str("thread_identifier") == "":
		err = writeNow(env, "mqtt.service", []int64{id}, map[string]any{"connection_status": "disconnected"})
		return map[string]any{"status": "stopped", "message": "MQTT Service is not working"}, err
	case !ctl.ServiceRunning():
		err = writeNow(env, "mqtt.service", []int64{id}, map[string]any{"status": "stop", "thread_identifier": false, "connection_status": "disconnected"})
		return map[string]any{"status": "error", "message": "MQTT thread is no longer active"}, err
	case serviceConnection(ctl) == "connected":
		err = writeNow(env, "mqtt.service", []int64{id}, map[string]any{"connection_status": "connected"})
		return map[string]any{"status": "connected", "message": "MQTT Service is connected and running"}, err
	}
	err = writeNow(env, "mqtt.service", []int64{id}, map[string]any{"connection_status": "connecting"})
	return map[string]any{"status": "connecting", "message": "MQTT Service is running but not connected"}, err
}
