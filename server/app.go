package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bus"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iotbox"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/rpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/web"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// app is the running server: what start built and shutdown tears down.
type app struct {
	cfg     Config
	log     *slog.Logger
	db      *gorm.DB
	reg     *models.Registry
	metrics *prometheus.Registry
	mqtt    *listener.Service
	broker  *embeddedBroker // nil without --embedded-broker
	bus     *bus.Bus
	box     *iotbox.Box
	http    *http.Server
	cancel  context.CancelFunc // stops background jobs, the listener service among them
	wg      sync.WaitGroup     // background jobs and the HTTP server
	// stopLive ends the bus and the IoT-box long polls before HTTP drains:
	// their sockets and 50 s polls would otherwise hold shutdown up.
	stopLive context.CancelFunc
	live     sync.WaitGroup
	devices  demoDevices // --demo's simulated devices
}

// start opens the database, migrates and initialises it, starts the
// embedded broker and the demo records when asked, then the HTTP server,
// the listener service and the background jobs. They run until shutdown.
// The MQTT service starts by itself when it was running when the server
// last stopped.
func start(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	reg, err := models.NewRegistry(log)
	if err != nil {
		return nil, err
	}
	db, dialect, err := models.OpenDB(cfg.DB)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, db: db, reg: reg}
	reg.Attach(db, dialect)
	if err := reg.Migrate(ctx); err != nil {
		a.closeDB()
		return nil, err
	}
	generated, err := reg.Init(ctx, cfg.AdminPassword)
	if err != nil {
		a.closeDB()
		return nil, err
	}
	if generated != "" {
		// Shown once, at database creation, so the operator can log in.
		log.Warn("Created user admin with a generated password; change it after the first login",
			slog.String("login", "admin"), slog.String("password", generated))
	}
	if err := a.startEmbedded(ctx); err != nil {
		a.closeDB()
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		a.closeEmbedded()
		a.closeDB()
		return nil, err
	}
	a.metrics = newMetrics(sqlDB)
	a.mqtt = listener.New(reg, listener.Options{Logger: log, Metrics: a.metrics})
	reg.SetBrokerControl(a.mqtt)
	busOpts := bus.Options{Logger: log, AllowedOrigins: cfg.CORSOrigins, Metrics: a.metrics}
	if dialect == models.Postgres {
		// Instances sharing the database share the bus (LISTEN/NOTIFY).
		busOpts.PostgresDSN = cfg.DB
	}
	if a.bus, err = bus.New(reg, busOpts); err != nil {
		a.closeEmbedded()
		a.closeDB()
		return nil, err
	}
	reg.SetNotifier(a.bus)
	a.box = iotbox.New(reg, a.bus, iotbox.Options{Logger: log, AllowedOrigins: cfg.CORSOrigins, PublicUser: cfg.IoTPublicUser})

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		a.closeEmbedded()
		a.closeDB()
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	a.http = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	live, stopLive := context.WithCancel(context.Background())
	a.stopLive = stopLive
	a.live.Add(2)
	go func() {
		defer a.live.Done()
		if err := a.bus.Run(live); err != nil {
			log.Error("Bus failed", slog.Any("error", err))
		}
	}()
	go func() {
		defer a.live.Done()
		if err := a.box.Run(live); err != nil {
			log.Error("IoT box endpoints failed", slog.Any("error", err))
		}
	}()
	jobs, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Add(3)
	go func() {
		defer a.wg.Done()
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server failed", slog.Any("error", err))
		}
	}()
	go func() {
		defer a.wg.Done()
		a.purgeSessions(jobs)
	}()
	go func() {
		defer a.wg.Done()
		if err := a.mqtt.Run(jobs); err != nil {
			log.Error("MQTT listener service failed", slog.Any("error", err))
		}
	}()
	a.autostartMQTT(ctx)
	a.startDevices()
	log.Info("Listening", slog.String("addr", ln.Addr().String()), slog.String("db_name", cfg.DBName), slog.String("dialect", string(dialect)))
	return a, nil
}

// routes mounts every handler on one router: each RPC pattern, the admin
// pages, and GET /metrics beside them.
func (a *app) routes() http.Handler {
	r := chi.NewRouter()
	h := rpc.NewHandler(a.reg, rpc.Options{
		DBName:          a.cfg.DBName,
		ListDB:          a.cfg.ListDB,
		MaxRequestBytes: a.cfg.MaxRequestBytes,
		SessionMaxAge:   a.cfg.SessionMaxAge,
		LoginRateLimit:  a.cfg.LoginRateLimit,
		AllowedOrigins:  a.cfg.CORSOrigins,
		Logger:          a.log,
	})
	for _, p := range rpc.Routes() {
		r.Handle(p, h)
	}
	for p, h := range a.bus.Routes() {
		r.Handle(p, h)
	}
	for p, h := range a.box.Routes() {
		r.Handle(p, h)
	}
	pages := web.NewHandler(web.Options{Logger: a.log})
	for _, p := range web.Routes() {
		r.Get(p, pages.ServeHTTP)
		r.Head(p, pages.ServeHTTP)
	}
	r.Method(http.MethodGet, "/metrics", metricsHandler(a.metrics, a.log))
	return r
}

// purgeSessions deletes expired web sessions every hour until ctx ends.
func (a *app) purgeSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.reg.PurgeSessions(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("Unable to purge sessions", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shutdown closes the bus's sockets and the IoT-box long polls, drains
// HTTP (in-flight calls finish and commit), stops the
// background jobs and waits for them (the listener service stops its
// daemons and commits what it received), then stops the demo devices and
// the embedded broker, and finally closes the database.
func (a *app) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	a.stopLive()
	a.live.Wait()
	err := a.http.Shutdown(ctx)
	a.cancel()
	a.wg.Wait()
	a.devices.stop()
	a.closeEmbedded()
	a.closeDB()
	return err
}

func (a *app) closeDB() {
	if d, err := a.db.DB(); err == nil {
		d.Close()
	}
}
