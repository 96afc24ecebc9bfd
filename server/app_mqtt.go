package main

// The MQTT side of start: the embedded broker, the demo records and
// devices, and starting the listener service at boot.

import (
	"context"
	"log/slog"
	"sync"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/server/demo"
)

// startEmbedded starts the embedded broker of --embedded-broker and, with
// --demo, prepares the demo records pointing at its actual address. It runs
// before the listener service exists, so the record changes reach no
// daemon.
func (a *app) startEmbedded(ctx context.Context) error {
	if a.cfg.EmbeddedBroker == "" {
		return nil
	}
	b, err := a.startPinnedBroker(ctx)
	if err != nil {
		return err
	}
	a.broker = b
	if !a.cfg.Demo {
		return nil
	}
	created, err := demo.Seed(ctx, a.reg, b.host, b.port)
	if err != nil {
		a.closeEmbedded()
		return err
	}
	if created {
		a.log.Info("Created the demo broker, its subscriptions and signals", slog.String("broker", demo.BrokerName), slog.String("addr", b.addr()))
	}
	return nil
}

func (a *app) closeEmbedded() {
	if a.broker != nil {
		a.broker.close()
		a.broker = nil
	}
}

// autostartMQTT starts the listener service when it was running when the
// server last stopped (or with --demo), through the model action so the
// service record says so. A failure is logged, not fatal: the service can
// be started over RPC once the cause is fixed.
func (a *app) autostartMQTT(ctx context.Context) {
	should, err := a.mqttAddon.ServiceShouldRun(ctx)
	if err != nil {
		a.log.Warn("Unable to read the MQTT service state", slog.Any("error", err))
		return
	}
	if !should && !a.cfg.Demo {
		return
	}
	res, err := a.reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "mqtt.service", Method: "start_mqtt_service"})
	if err != nil || res != true {
		a.log.Warn("Unable to start the MQTT service at boot", slog.Any("error", err))
		return
	}
	a.log.Info("Started the MQTT service", slog.Bool("was_running", should), slog.Bool("demo", a.cfg.Demo))
}

// demoDevices are the running simulated devices of --demo.
type demoDevices struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startDevices runs the simulated devices against the embedded broker.
func (a *app) startDevices() {
	if !a.cfg.Demo || a.broker == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.devices.cancel = cancel
	a.devices.wg.Add(1)
	addr := a.broker.addr()
	go func() {
		defer a.devices.wg.Done()
		demo.Run(ctx, addr, demo.Options{Logger: a.log.With(slog.String("component", "demo"))})
	}()
	a.log.Info("Simulated devices publishing", slog.String("broker", addr))
}

// stop stops the devices and waits for them to disconnect.
func (d *demoDevices) stop() {
	if d.cancel != nil {
		d.cancel()
		d.wg.Wait()
	}
}
