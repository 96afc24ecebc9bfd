package main

// The rotate-key subcommand: a new secret key, every stored secret
// encrypted again with it in one transaction, the old key no longer
// needed.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/rules"
)

const rotateKeyUsage = `Usage: odoo-iot-mqtt rotate-key [flags]

Generates a new secret key and encrypts every stored secret (broker
passwords, TLS client keys, websocket headers) again with it, in one
transaction; the old key is then no longer needed. Stop the server first:
it reads the key at start. The flags are the server's (--db, -c,
--secret-key-file, --secret-key, ...); see odoo-iot-mqtt --help.

With a key file, the file is rewritten with the new key (it briefly holds
both, so an interruption loses nothing: run the command again). With
--secret-key or ODOO_IOT_MQTT_SECRET_KEY, the new key is printed on standard
output, and the server must be given it from then on.
`

// runRotateKey is the rotate-key subcommand; args follow its name.
func runRotateKey(args, environ []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprint(stdout, rotateKeyUsage)
			return 0
		}
	}
	cfg, err := LoadConfig(args, environ)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, rotateKeyUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "odoo-iot-mqtt rotate-key: configuration:", err)
		return 2
	}
	if err := rotateKey(context.Background(), cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "odoo-iot-mqtt rotate-key:", err)
		return 1
	}
	return 0
}

// rotateKey carries out a rotation, telling the operator on stderr what it
// did (and, for a key given in the environment, the new key on stdout).
func rotateKey(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	fromEnv := cfg.SecretKey != ""
	path := cfg.KeyFile()
	var cur *keyring.Keyring
	var err error
	if fromEnv {
		cur, err = keyring.Parse(secretKeyEnvSource, cfg.SecretKey)
	} else if cur, err = keyring.LoadFile(path); errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("no key file at %s (the server creates it at its first start; give --secret-key-file if it is elsewhere)", path)
	}
	if err != nil {
		return err
	}
	next, err := keyring.NewKey()
	if err != nil {
		return err
	}
	both := cur.WithCurrent(next)
	reg, closeDB, err := openRegistryWith(ctx, cfg, both)
	if err != nil {
		return err
	}
	defer closeDB()

	if fromEnv {
		// Printed before anything changes: afterwards would risk secrets
		// encrypted with a key nobody saw.
		fmt.Fprintln(stdout, next.String())
	} else if err := keyring.WriteFile(path, both); err != nil {
		return err
	}
	rep, err := reg.ResealSecrets(ctx)
	if err != nil {
		if fromEnv {
			return fmt.Errorf("%w\n(the key printed above is not used: keep giving the old one)", err)
		}
		if len(rep.Unreadable) == 0 {
			// Whether the transaction committed is not known (a lost
			// connection at commit): the file keeps both keys, which open
			// whatever the database now holds.
			return fmt.Errorf("%w\n(%s holds the new and the old key, which is harmless: run rotate-key again)", err, path)
		}
		// Refused before anything was written: the old file is right.
		if werr := keyring.WriteFile(path, cur); werr != nil {
			err = errors.Join(err, fmt.Errorf("putting the old key file back failed (it holds the old and the unused new key, which is harmless): %w", werr))
		}
		return err
	}
	old := make([]string, 0, len(cur.Keys()))
	for _, k := range cur.Keys() {
		old = append(old, k.ID())
	}
	if fromEnv {
		fmt.Fprintf(stderr, "Encrypted %d stored secrets with the new key %s, printed above. Give it to the server as --secret-key or ODOO_IOT_MQTT_SECRET_KEY from now on; the old key %s is no longer needed.\n",
			rep.Sealed, next.ID(), strings.Join(old, ", "))
		return nil
	}
	only, err := keyring.New("key file "+path, next)
	if err == nil {
		err = keyring.WriteFile(path, only)
	}
	if err != nil {
		return fmt.Errorf("the secrets are encrypted with the new key %s, but dropping the old key from %s failed (harmless: run rotate-key again): %w", next.ID(), path, err)
	}
	fmt.Fprintf(stderr, "Encrypted %d stored secrets with the new key %s in %s; the old key %s is no longer needed. Back the key file up again.\n",
		rep.Sealed, next.ID(), path, strings.Join(old, ", "))
	return nil
}

// openRegistryWith opens the database of cfg and builds the product's
// registry on it with cipher, migrated, without starting anything.
func openRegistryWith(ctx context.Context, cfg Config, cipher models.Cipher) (*models.Registry, func(), error) {
	db, dialect, err := models.OpenDB(cfg.DB)
	if err != nil {
		return nil, nil, err
	}
	closeDB := func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	}
	mq := mqtt.New(mqtt.Options{})
	iot := iotdevice.New(mq, iotdevice.Options{})
	reg, err := models.New(models.Options{DB: db, Dialect: dialect, Logger: slog.New(slog.DiscardHandler), Cipher: cipher}, mq, iot, rules.New(mq, iot, rules.Options{}))
	if err == nil {
		err = reg.Migrate(ctx)
	}
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	return reg, closeDB, nil
}
