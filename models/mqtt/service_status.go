package mqtt

import (
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The Service page's reports: the daemon registry with each broker's
// owner (get_listener_status) and the server instances (get_instances),
// the same on every instance of a cluster.

// odooTime is a time as Odoo's RPC sends a datetime, false for none.
func odooTime(t time.Time) any {
	if t.IsZero() {
		return false
	}
	return t.UTC().Format(models.DatetimeFormat)
}

// serviceListenerStatus returns the daemon registry, one dict per broker.
func (a *Addon) serviceListenerStatus(env *models.Env, _ []int64, _ models.Args) (any, error) {
	ctl, err := a.serviceControl(env, models.OpRead)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, d := range ctl.Daemons() {
		row := models.NewDict(15)
		row.Set("broker_id", []any{d.BrokerID, d.BrokerName})
		row.Set("thread_identifier", d.ThreadIdentifier)
		row.Set("state", d.State)
		row.Set("since", odooTime(d.Since))
		row.Set("stop_reason", d.StopReason)
		row.Set("connected_at", odooTime(d.ConnectedAt))
		row.Set("disconnected_at", odooTime(d.DisconnectedAt))
		row.Set("attempts", int64(d.Attempts))
		row.Set("next_retry", odooTime(d.NextRetry))
		row.Set("last_error", d.LastError)
		row.Set("messages_in", int64(d.MessagesIn))
		row.Set("messages_out", int64(d.MessagesOut))
		row.Set("client_id", d.ClientID)
		row.Set("owner", ownerDict(d))
		out = append(out, row)
	}
	return out, nil
}

// ownerDict is a broker's owner: {id, host, pid, since, self}, false
// when no live instance owns it.
func ownerDict(d DaemonStatus) any {
	if !d.Owned {
		return false
	}
	o := models.NewDict(5)
	o.Set("id", d.Owner.ID)
	o.Set("host", d.Owner.Host)
	o.Set("pid", int64(d.Owner.PID))
	o.Set("since", odooTime(d.OwnerSince))
	o.Set("self", d.Owner.Self)
	return o
}

// serviceInstances returns the live server instances, one dict each:
// {id, host, pid, started, heartbeat, brokers, self}.
func (a *Addon) serviceInstances(env *models.Env, _ []int64, _ models.Args) (any, error) {
	ctl, err := a.serviceControl(env, models.OpRead)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, in := range ctl.Instances() {
		row := models.NewDict(7)
		row.Set("id", in.ID)
		row.Set("host", in.Host)
		row.Set("pid", int64(in.PID))
		row.Set("started", odooTime(in.Started))
		row.Set("heartbeat", odooTime(in.Heartbeat))
		row.Set("brokers", int64(in.Brokers))
		row.Set("self", in.Self)
		out = append(out, row)
	}
	return out, nil
}
