package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bus"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/cluster"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/clientaddr"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iotbox"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/rpc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/web"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// app is the running server: what start built and shutdown tears down.
type app struct {
	cfg       Config
	log       *slog.Logger
	db        *gorm.DB
	reg       *models.Registry
	mqttAddon *mqtt.Addon      // brokers, subscriptions, signals, history
	iotAddon  *iotdevice.Addon // devices
	rules     *rules.Addon     // automation rules
	metrics   *prometheus.Registry
	mqtt      *listener.Service
	broker    *embeddedBroker // nil without --embedded-broker
	bus       *bus.Bus
	box       *iotbox.Box
	cluster   *cluster.Coordinator // on PostgreSQL only
	dbLock    *os.File             // SQLite's single-instance lock (sqlite_lock.go)
	http      *http.Server
	addr      string             // the address HTTP listens on, resolved (:0 becomes a port)
	cancel    context.CancelFunc // stops background jobs, the listener service among them
	wg        sync.WaitGroup     // background jobs and the HTTP server
	// stopLive ends the bus and the IoT-box long polls before HTTP drains:
	// their sockets and 50 s polls would otherwise hold shutdown up.
	stopLive context.CancelFunc
	live     sync.WaitGroup
	devices  demoDevices // --demo's simulated devices
}

// start opens the database and builds the registry on it, starts the
// embedded broker and the demo records when asked, then the HTTP server,
// the bus, the IoT-box endpoints, the listener service and the background
// jobs. They run until shutdown. The MQTT service starts by itself when it
// was running when the server last stopped. When a step fails, what the
// earlier ones opened is closed again.
func start(ctx context.Context, cfg Config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	// undo holds the clean-ups of the steps done, run in reverse when a
	// later one fails; closeDB does nothing before the database is open.
	undo := []func(){a.closeDB}
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := a.startEmbedded(ctx); err != nil {
		return nil, err
	}
	undo = append(undo, a.closeEmbedded)
	lopts := listener.Options{Logger: log, Metrics: a.metrics,
		QueueBytes: int(a.cfg.IngestQueueBytes), DeviceQueueBytes: int(a.cfg.DeviceQueueBytes), Rules: a.ruleEngine(),
		PurgeInterval: a.cfg.HistoryPurgeInterval}
	if a.reg.Dialect() == models.Postgres {
		// On PostgreSQL every instance takes part in the cluster (issue
		// 12): alone, it simply owns every broker.
		a.cluster = cluster.New(cluster.Options{DSN: cfg.DB, Logger: log})
		lopts.Cluster = a.cluster
	}
	a.mqtt = listener.New(a.mqttAddon, a.iotAddon, lopts)
	a.box = iotbox.New(a.reg, a.bus, iotbox.Options{Logger: log, AllowedOrigins: cfg.CORSOrigins, PublicUser: cfg.IoTPublicUser})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	a.http = newHTTPServer(cfg, a.routes(), log)
	a.addr = ln.Addr().String()
	a.runLive()
	a.runJobs(ln)
	a.autostartMQTT(ctx)
	a.startDevices()
	log.Info("Listening", slog.String("addr", ln.Addr().String()), slog.String("db_name", cfg.DBName), slog.String("dialect", string(a.reg.Dialect())),
		slog.String("proxy_mode", clientaddr.NewResolver(cfg.ProxyMode, cfg.TrustedProxies).String()))
	return a, nil
}

// openStore loads the secret key, opens the database, the metrics and the
// bus, builds the registry with the product's addons (the bus as its
// notifier, the key as its cipher), migrates the schema and initialises
// the data. On a new database it logs the generated admin password once.
func (a *app) openStore(ctx context.Context) error {
	keys, err := loadKeyring(a.cfg, a.log)
	if err != nil {
		return err
	}
	if path, ok := strings.CutPrefix(a.cfg.DB, "sqlite:"); ok && path != ":memory:" && !strings.Contains(path, "mode=memory") {
		lock, err := lockSQLite(path)
		if err != nil {
			return err
		}
		a.dbLock = lock
	}
	db, dialect, err := models.OpenDB(a.cfg.DB)
	if err != nil {
		return err
	}
	a.db = db
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	a.metrics = newMetrics(sqlDB)
	busOpts := bus.Options{Logger: a.log, AllowedOrigins: a.cfg.CORSOrigins, Metrics: a.metrics}
	if dialect == models.Postgres {
		// Instances sharing the database share the bus (LISTEN/NOTIFY).
		busOpts.PostgresDSN = a.cfg.DB
	}
	if a.bus, err = bus.New(busOpts); err != nil {
		return err
	}
	a.mqttAddon = mqtt.New(mqtt.Options{Control: a.brokerControl, HistoryPartition: models.Grain(a.cfg.HistoryPartition)})
	a.iotAddon = iotdevice.New(a.mqttAddon, iotdevice.Options{})
	registerHAMetrics(a.metrics, a.iotAddon)
	a.rules = rules.New(a.mqttAddon, a.iotAddon, rules.Options{})
	a.reg, err = models.New(models.Options{DB: db, Dialect: dialect, Logger: a.log, Notifier: a.bus, Cipher: keys},
		a.mqttAddon, a.iotAddon, a.rules)
	if err != nil {
		return err
	}
	if err := a.reg.Migrate(ctx); err != nil {
		return err
	}
	if a.cfg.AdminPassword != "" {
		if has, err := a.reg.HasUsers(ctx); err == nil && has {
			a.log.Warn("Ignoring --admin-password: it only applies when the database is created, and this one exists; to change a password run odoo-iot-mqtt passwd [--login admin] with the same --db")
		}
	}
	generated, err := a.reg.Init(ctx, a.cfg.AdminPassword)
	if err != nil {
		return err
	}
	if generated != "" {
		// Shown once, at database creation, so the operator can log in.
		a.log.Warn("Created user admin with a generated password; change it after the first login",
			slog.String("login", "admin"), slog.String("password", generated))
	}
	return nil
}

// ruleEngine is what evaluates the automation rules on the messages the
// listener commits: the rules addon, built with the registry. nil: no
// rules; an untyped nil, not a nil *rules.Addon, which the listener
// would call.
func (a *app) ruleEngine() listener.RuleEngine {
	if a.rules == nil {
		return nil
	}
	return a.rules
}

// brokerControl is the listener service as the mqtt addon reaches it;
// nil until start has built it (the demo records are seeded before).
func (a *app) brokerControl() mqtt.BrokerControl {
	if a.mqtt == nil {
		return nil
	}
	return a.mqtt
}

// runLive runs the bus and the IoT-box endpoints until stopLive.
func (a *app) runLive() {
	live, stopLive := context.WithCancel(context.Background())
	a.stopLive = stopLive
	a.live.Go(func() {
		if err := a.bus.Run(live); err != nil {
			a.log.Error("Bus failed", slog.Any("error", err))
		}
	})
	a.live.Go(func() {
		if err := a.box.Run(live); err != nil {
			a.log.Error("IoT box endpoints failed", slog.Any("error", err))
		}
	})
}

// runJobs serves HTTP on ln and runs the session purge, the listener
// service, the device command worker and the automation rules' worker
// until cancel.
func (a *app) runJobs(ln net.Listener) {
	jobs, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Go(func() {
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("HTTP server failed", slog.Any("error", err))
		}
	})
	a.wg.Go(func() { a.purgeSessions(jobs) })
	// The cluster outlives the listener: it leaves (releasing the
	// brokers to the others) only once this instance's daemons have
	// disconnected, so a taker never overlaps them with the same client
	// id.
	member, leave := context.WithCancel(context.Background())
	if a.cluster != nil {
		a.wg.Go(func() {
			if err := a.cluster.Run(member); err != nil {
				a.log.Error("Cluster coordinator failed", slog.Any("error", err))
			}
		})
	}
	a.wg.Go(func() {
		defer leave()
		if err := a.mqtt.Run(jobs); err != nil {
			a.log.Error("MQTT listener service failed", slog.Any("error", err))
		}
	})
	a.wg.Go(func() {
		if err := a.iotAddon.RunCommands(jobs); err != nil {
			a.log.Error("Device command worker failed", slog.Any("error", err))
		}
	})
	a.wg.Go(func() { a.rules.Run(jobs) })
}

// routes mounts every handler on one router: each RPC pattern, the admin
// pages, and GET /metrics beside them, behind the per-address cap and the
// body deadline (http_limits.go).
func (a *app) routes() http.Handler {
	r := chi.NewRouter()
	// The client is resolved first (proxy mode), so that every limit and
	// log line after it sees the same address.
	r.Use(clientaddr.NewResolver(a.cfg.ProxyMode, a.cfg.TrustedProxies).Middleware,
		newClientLimiter(a.cfg.MaxRequestsPerAddr, a.cfg.MaxStreamsPerAddr, a.metrics, a.log).middleware,
		bodyDeadline(a.cfg.HTTPBodyTimeout))
	h := rpc.NewHandler(a.reg, rpc.Options{
		DBName:          a.cfg.DBName,
		ListDB:          a.cfg.ListDB,
		MaxRequestBytes: a.cfg.MaxRequestBytes,
		SessionMaxAge:   a.cfg.SessionMaxAge,
		LoginRateLimit:  a.cfg.LoginRateLimit,
		AllowedOrigins:  a.cfg.CORSOrigins,
		Logger:          a.log,

		LoginUserRateLimit: a.cfg.LoginUserRateLimit,
	})
	for _, p := range rpc.Routes() {
		r.Handle(p, h)
	}
	for p, h := range a.bus.Routes(a.reg) {
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
	if a.db != nil {
		if d, err := a.db.DB(); err == nil {
			d.Close()
		}
	}
	if a.dbLock != nil {
		a.dbLock.Close() // after the database: the next process may open it
	}
}
