package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// rawPassword reads a broker's password column as stored (what a copy of
// the database or pg_dump shows).
func rawPassword(t *testing.T, app *modelstest.App, id int64) string {
	t.Helper()
	var v *string
	if err := app.DB().Raw(`SELECT "password" FROM "mqtt_broker" WHERE "id" = ?`, id).Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	if v == nil {
		return ""
	}
	return *v
}

// listenerConfig is what the listener would connect to broker id with,
// its secrets read with the keys of kr.
func listenerConfig(t *testing.T, dsn string, kr *keyring.Keyring, id int64) mqtt.BrokerConfig {
	t.Helper()
	app := modelstest.Open(t, dsn, modelstest.Options{Cipher: kr})
	cfgs, err := app.MQTT.BrokerConfigs(context.Background(), id)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("BrokerConfigs: %v, %v", cfgs, err)
	}
	return cfgs[0]
}

// listenerPassword is the password the listener would connect with, read
// with the keys of kr, and the error it reports when they do not open it.
func listenerPassword(t *testing.T, dsn string, kr *keyring.Keyring, id int64) (string, error) {
	t.Helper()
	cfg := listenerConfig(t, dsn, kr, id)
	return cfg.Password, cfg.SecretError
}

// rotateKeyCmd runs the binary's rotate-key subcommand.
func rotateKeyCmd(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"rotate-key"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("rotate-key: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

func loadKeyFile(t *testing.T, path string) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestSecretKeyEndToEnd (issue 9 item 11): the server creates its key file
// at the first start and stores broker secrets encrypted with it; the
// rotate-key command (the real binary) encrypts them again with a new key
// after which the old one is not needed; a server given another key (a
// database restored without its key file) starts, says which secrets it
// cannot decrypt, and Check Connection answers that clearly; a key given
// in the environment rotates too, the new key printed.
func TestSecretKeyEndToEnd(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			dsn := modelstest.DSN(t, kind)
			keyFile := filepath.Join(dir, "keys", "secret.key")
			args := []string{"--db", dsn, "--db-name", "e2e", "--admin-password", "pw"}

			srv := startServer(t, append(args, "--secret-key-file", keyFile)...)
			if got := srv.logValue(t, "Created the secret key file that encrypts the stored broker secrets: back it up apart from the database; without it they are lost", "path"); got != keyFile {
				t.Errorf("key file logged as %q", got)
			}
			if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, %v (want mode 0600)", st, err)
			}
			first := loadKeyFile(t, keyFile)
			id := login(t, srv, "e2e", "pw").create("mqtt.broker", map[string]any{"name": "plant", "password": "e2e-secret"})
			if srv.stop(t) != 0 {
				t.Fatal("unclean stop")
			}
			writer := modelstest.Open(t, dsn, modelstest.Options{Cipher: first})
			if raw := rawPassword(t, writer, id); !strings.HasPrefix(raw, "$aesgcm1$"+first.Current().ID()+"$") || strings.Contains(raw, "e2e-secret") {
				t.Errorf("password at rest %q", raw)
			}

			code, _, stderr := rotateKeyCmd(t, nil, append(args, "--secret-key-file", keyFile)...)
			if code != 0 {
				t.Fatalf("rotate-key exit %d: %s", code, stderr)
			}
			rotated := loadKeyFile(t, keyFile)
			if n := len(rotated.Keys()); n != 1 || rotated.Current().ID() == first.Current().ID() {
				t.Fatalf("key file after rotation: %d keys, current %s (was %s)", n, rotated.Current().ID(), first.Current().ID())
			}
			for _, part := range []string{"Encrypted 1 stored secrets", rotated.Current().ID(), first.Current().ID() + " is no longer needed"} {
				if !strings.Contains(stderr, part) {
					t.Errorf("rotate-key said %q, without %q", stderr, part)
				}
			}
			if raw := rawPassword(t, writer, id); !strings.HasPrefix(raw, "$aesgcm1$"+rotated.Current().ID()+"$") {
				t.Errorf("password at rest after rotation %q", raw)
			}
			if pw, err := listenerPassword(t, dsn, rotated, id); pw != "e2e-secret" || err != nil {
				t.Errorf("with the new key alone: %q, %v", pw, err)
			}
			if pw, err := listenerPassword(t, dsn, first, id); pw != "" || err == nil {
				t.Errorf("the old key still opens the password: %q, %v", pw, err)
			}

			// The database without its key: another key file, created anew.
			srv = startServer(t, append(args, "--secret-key-file", filepath.Join(dir, "elsewhere.key"))...)
			warn := srv.logRecords("Stored secrets cannot be decrypted with this server's secret key: restore the key they were written with, or enter them again")
			if len(warn) != 1 || !strings.Contains(warn[0]["secrets"].(string), "mqtt.broker("+strconv.FormatInt(id, 10)+").password") {
				t.Errorf("warning at start: %v", warn)
			}
			_, err := login(t, srv, "e2e", "pw").try("mqtt.broker", "check_connection", []any{[]any{id}}, nil)
			if err == nil || !strings.Contains(err.Error(), "Password cannot be decrypted") || !strings.Contains(err.Error(), rotated.Current().ID()) {
				t.Errorf("check_connection without the key: %v", err)
			}
			if srv.stop(t) != 0 {
				t.Error("the server without the key did not stop cleanly")
			}

			// A key given in the environment.
			env := []string{"ODOO_IOT_MQTT_SECRET_KEY=" + rotated.Current().String()}
			code, stdout, stderr := rotateKeyCmd(t, env, args...)
			if code != 0 {
				t.Fatalf("rotate-key with the key in the environment: exit %d: %s", code, stderr)
			}
			printed, err := keyring.Parse("stdout", stdout)
			if err != nil || !strings.Contains(stderr, "ODOO_IOT_MQTT_SECRET_KEY") {
				t.Fatalf("rotate-key printed %q (%v), said %q", stdout, err, stderr)
			}
			if pw, err := listenerPassword(t, dsn, printed, id); pw != "e2e-secret" || err != nil {
				t.Errorf("with the printed key: %q, %v", pw, err)
			}
			if st := loadKeyFile(t, keyFile); st.Current().ID() != rotated.Current().ID() {
				t.Errorf("rotating an environment key touched the key file")
			}
		})
	}
}

// TestRotateKeyRefuses: rotate-key without a key file, or over a secret no
// key opens, fails with a clear message and changes nothing.
func TestRotateKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "r.db")
	code, _, stderr := rotateKeyCmd(t, nil, "--db", dsn)
	if code != 1 || !strings.Contains(stderr, "no key file at "+filepath.Join(dir, "r.db.key")) {
		t.Errorf("without a key file: exit %d, %q", code, stderr)
	}

	k, _ := keyring.NewKey()
	lost, _ := keyring.New("a lost key", k)
	app := modelstest.Open(t, dsn, modelstest.Options{Cipher: lost})
	id, err := app.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "create", Args: []any{map[string]any{"name": "b", "password": "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	before := rawPassword(t, app, id.(int64))
	keyFile := filepath.Join(dir, "other.key")
	if _, _, err := keyring.LoadOrCreateFile(keyFile); err != nil {
		t.Fatal(err)
	}
	current := loadKeyFile(t, keyFile).Current().ID()
	code, _, stderr = rotateKeyCmd(t, nil, "--db", dsn, "--secret-key-file", keyFile)
	if code != 1 || !strings.Contains(stderr, "cannot be decrypted") || !strings.Contains(stderr, "nothing was changed") || !strings.Contains(stderr, k.ID()) {
		t.Errorf("over an unreadable secret: exit %d, %q", code, stderr)
	}
	if after := loadKeyFile(t, keyFile); len(after.Keys()) != 1 || after.Current().ID() != current {
		t.Errorf("the failed rotation left key file keys %d, current %s", len(after.Keys()), after.Current().ID())
	}
	if rawPassword(t, app, id.(int64)) != before {
		t.Errorf("the failed rotation changed the stored secret")
	}
	code, stdout, _ := rotateKeyCmd(t, nil, "--help")
	if code != 0 || !strings.Contains(stdout, "Usage: odoo-iot-mqtt rotate-key") {
		t.Errorf("rotate-key --help: %d %q", code, stdout)
	}
}
