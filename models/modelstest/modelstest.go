// Package modelstest builds real, migrated databases with the product's
// addons (mqtt, iotdevice, rules), the way server builds its registry, for the
// tests of the addons and of the packages above them; and the two
// stand-ins the model suites share: Control (the listener service as the
// MQTT buttons see it) and Notes (the bus).
package modelstest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
	"golang.org/x/crypto/bcrypt"
)

// AdminPassword is the password of user admin in test databases.
const AdminPassword = "admin-test-pw"

// App is a registry built with the product's addons, the way server
// builds it, with the addons at hand for the listener and the tests.
type App struct {
	*models.Registry
	MQTT    *mqtt.Addon
	Devices *iotdevice.Addon
	Rules   *rules.Addon // its worker (Run) runs only when a test starts it
}

// Options are what a test registry is built with beyond its database.
type Options struct {
	// Control returns the listener service the MQTT buttons drive; nil:
	// the buttons answer that MQTT is not available.
	Control func() mqtt.BrokerControl
	// Notifier is the bus; nil drops notifications.
	Notifier models.Notifier
	// Drivers handle the devices; nil: iot.DefaultRegistry.
	Drivers *iot.Registry
	// Logger; nil: warnings go to the test log.
	Logger *slog.Logger
	// Rules configure the automation addon.
	Rules rules.Options
	// HistoryPartition is the history's partition grain on PostgreSQL
	// ("": a day).
	HistoryPartition models.Grain
	// Cipher encrypts the secrets at rest; nil: TestKeyring, the same for
	// every registry of the test binary (so a database reopened reads its
	// secrets back), as a server always has one.
	Cipher models.Cipher
}

// testKeyring is TestKeyring's keyring, made once per test binary.
var testKeyring = sync.OnceValue(func() *keyring.Keyring {
	k, err := keyring.NewKey()
	if err != nil {
		panic(err)
	}
	kr, err := keyring.New("the test keyring", k)
	if err != nil {
		panic(err)
	}
	return kr
})

// TestKeyring is the secret keyring test registries use unless given
// another.
func TestKeyring() *keyring.Keyring { return testKeyring() }

// New returns a registry on a fresh SQLite database, migrated and
// initialised with user admin / AdminPassword: a copy of a template made
// once per test binary, so each test still has a database of its own.
func New(t testing.TB, opts ...Options) *App {
	t.Helper()
	return Open(t, "sqlite:"+templateCopy(t), opts...)
}

// Kinds lists the databases a suite runs on (see testdb.Kinds).
func Kinds(t testing.TB) []string { return testdb.Kinds(t) }

// NewFor returns a registry on a fresh database of kind "sqlite" (as New)
// or "postgres" (migrated anew).
func NewFor(t testing.TB, kind string, opts ...Options) *App {
	t.Helper()
	if kind == "sqlite" {
		return New(t, opts...)
	}
	return Open(t, testdb.DSN(t, kind), opts...)
}

// DSN returns the DSN of a fresh empty database of kind, for tests that
// start the real binary.
func DSN(t testing.TB, kind string) string { return testdb.DSN(t, kind) }

// Open migrates and initialises the database at dsn. On a copy of the
// template both steps find their work done and are quick; they still run,
// so that every test registry is set up the same way.
func Open(t testing.TB, dsn string, opts ...Options) *App {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Logger == nil {
		o.Logger = Logger(t)
	}
	app, db, err := open(o, dsn)
	if db != nil {
		t.Cleanup(func() { db.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// open builds a registry with the product's addons on the database at
// dsn, migrates and initialises it. The caller closes db, if not nil,
// even when err is set.
func open(o Options, dsn string) (_ *App, db *sql.DB, err error) {
	gdb, dialect, err := models.OpenDB(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	if db, err = gdb.DB(); err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	app := &App{MQTT: mqtt.New(mqtt.Options{Control: o.Control, HistoryPartition: o.HistoryPartition})}
	app.Devices = iotdevice.New(app.MQTT, iotdevice.Options{Drivers: o.Drivers})
	app.Rules = rules.New(app.MQTT, app.Devices, o.Rules)
	if o.Cipher == nil {
		o.Cipher = TestKeyring()
	}
	app.Registry, err = models.New(models.Options{DB: gdb, Dialect: dialect, Logger: o.Logger, Notifier: o.Notifier, HashCost: bcrypt.MinCost, Cipher: o.Cipher},
		app.MQTT, app.Devices, app.Rules)
	if err != nil {
		return nil, db, fmt.Errorf("registry: %w", err)
	}
	ctx := context.Background()
	if err := app.Migrate(ctx); err != nil {
		return nil, db, fmt.Errorf("migrate: %w", err)
	}
	if _, err := app.Init(ctx, AdminPassword); err != nil {
		return nil, db, fmt.Errorf("init: %w", err)
	}
	return app, db, nil
}

// Logger returns a logger writing warnings to the test log.
func Logger(t testing.TB) *slog.Logger { return LoggerAt(t, slog.LevelWarn) }

// LoggerAt returns a logger writing records of level and above to the
// test log while the test runs. Records that arrive after it ended (from a
// goroutine still stopping) are dropped: t.Log would panic.
func LoggerAt(t testing.TB, level slog.Level) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
