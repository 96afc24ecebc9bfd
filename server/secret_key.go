package main

// The server key that encrypts stored secrets (broker passwords, TLS
// client keys, websocket headers): where it lives and how it is loaded.

import (
	"log/slog"
	"path/filepath"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
)

// secretKeyEnvSource names the key given by flag or environment in
// messages.
const secretKeyEnvSource = "--secret-key (ODOO_IOT_MQTT_SECRET_KEY)"

// KeyFile is the path of the secret key file: --secret-key-file, or
// PATH.key beside a sqlite:PATH database (a copy of the database file
// alone does not take it along), or data/odoo-iot-mqtt.key relative to the
// working directory for PostgreSQL, where the default SQLite database
// would be.
func (c Config) KeyFile() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	if path, ok := c.SQLitePath(); ok {
		return path + ".key"
	}
	return filepath.Join("data", "odoo-iot-mqtt.key")
}

// loadKeyring returns the keyring of the server: the keys of --secret-key,
// or those of the key file, which is created with a new key when there is
// none (the first start).
func loadKeyring(cfg Config, log *slog.Logger) (*keyring.Keyring, error) {
	if cfg.SecretKey != "" {
		return keyring.Parse(secretKeyEnvSource, cfg.SecretKey)
	}
	path := cfg.KeyFile()
	kr, created, err := keyring.LoadOrCreateFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("Created the secret key file that encrypts the stored broker secrets: back it up apart from the database; without it they are lost",
			slog.String("path", path), slog.String("key_id", kr.Current().ID()))
	}
	return kr, nil
}
