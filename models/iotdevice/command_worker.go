package iotdevice

import (
	"context"
	"log/slog"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The command worker's pace.
const (
	// commandTick is how often the worker looks for due and overdue
	// commands; a device coming online wakes it at once.
	commandTick = time.Second
	// commandGrace delays the worker's expiry past a command's deadline,
	// so that a call waiting for it decides first (and says why).
	commandGrace = time.Second
	// CommandRetention is how long finished commands are kept.
	CommandRetention = 30 * 24 * time.Hour
	// commandBatch bounds the open commands one round looks at.
	commandBatch = 1000
)

// RunCommands is the command worker, until ctx ends: it sends the
// pending commands whose device is online (persistent ones that waited,
// woken by ingestion when a device's availability says online), times
// out the open commands past their deadline (call_async ones, and those
// of a caller that went away), and deletes finished commands older than
// CommandRetention. The server runs it beside the listener service.
// Several instances sharing a database may each run it: every change is
// conditional on the status it moves from.
func (a *Addon) RunCommands(ctx context.Context) error {
	t := time.NewTicker(commandTick)
	defer t.Stop()
	var purged time.Time
	for {
		if err := a.commandRound(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("Unable to process device commands", slog.Any("error", err))
		}
		if time.Since(purged) > time.Hour {
			if err := a.purgeCommands(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("Unable to purge old device commands", slog.Any("error", err))
			}
			purged = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-a.wake:
		}
	}
}

// wakeCommands makes the worker look at the commands now.
func (a *Addon) wakeCommands() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// commandRound expires the overdue open commands and sends the due
// pending ones.
func (a *Addon) commandRound(ctx context.Context) error {
	var open []*models.Record
	online := map[int64]bool{}
	err := a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		su := env.Sudo()
		m := su.Registry().Model("iot.command")
		ids, err := su.Search(m, []any{[]any{"status", "in", []any{StatusPending, StatusSent}}}, 0, commandBatch, "id")
		if err != nil || len(ids) == 0 {
			return err
		}
		if open, err = su.Load(m, ids, commandFields...); err != nil {
			return err
		}
		var devIDs []int64
		for _, r := range open {
			if r.Str("status") == StatusPending {
				devIDs = append(devIDs, r.Int("device_id"))
			}
		}
		devs, err := su.Load(su.Registry().Model("iot.device"), devIDs, "connected")
		for _, d := range devs {
			online[d.ID] = d.Bool("connected")
		}
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, r := range open {
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case now.After(commandDeadline(r).Add(commandGrace)):
			if _, err := a.expireCommand(ctx, r.ID, r.Int("timeout")); err != nil {
				return err
			}
		case r.Str("status") == StatusPending && online[r.Int("device_id")]:
			if err := a.sendDue(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendDue sends a pending command whose device is online; one that can
// no longer go out (its broker lost its command topics) fails.
func (a *Addon) sendDue(ctx context.Context, cmd *models.Record) error {
	ctl, err := a.mqtt.Control()
	if err != nil || !ctl.ServiceRunning() {
		return nil // no listener here to receive the answer: another instance may send it
	}
	var target commandTarget
	var terr error
	err = a.reg.Read(ctx, models.Superuser, nil, func(env *models.Env) error {
		devs, err := env.Sudo().Load(a.reg.Model("iot.device"), []int64{cmd.Int("device_id")})
		if err != nil || len(devs) == 0 {
			return err
		}
		target, terr = a.commandTarget(env, devs[0])
		return nil
	})
	if err != nil {
		return err
	}
	if terr != nil {
		_, err := a.moveCommandNow(ctx, cmd.ID, []string{StatusPending}, map[string]any{"status": StatusFailed, "error": terr.Error()})
		return err
	}
	a.log.Info("Sending a command that waited for its device", slog.Int64("command_id", cmd.ID), slog.Int64("device_id", cmd.Int("device_id")))
	return a.sendCommand(ctx, ctl, target, cmd.ID)
}

// purgeCommands deletes the finished commands past CommandRetention.
func (a *Addon) purgeCommands(ctx context.Context) error {
	return a.reg.Transaction(ctx, models.Superuser, nil, func(env *models.Env) error {
		n, err := env.Sudo().DeleteWhere(a.reg.Model("iot.command"), []any{
			[]any{"status", "in", []any{StatusSucceeded, StatusFailed, StatusTimedOut}},
			[]any{"create_date", "<", time.Now().Add(-CommandRetention).UTC().Format(models.DatetimeFormat)}})
		if n > 0 {
			a.log.Info("Old device commands deleted", slog.Int64("rows", n))
		}
		return err
	})
}
