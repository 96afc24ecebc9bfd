package mqtt_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// secretCols are the broker's encrypted columns.
var secretCols = []string{"password", "client_key", "ws_headers"}

// newKeyring is a keyring of one fresh key.
func newKeyring(t testing.TB) *keyring.Keyring {
	t.Helper()
	k, err := keyring.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New("test key "+k.ID(), k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// rawSecrets reads a broker's secret columns straight from the database,
// as a copy of it or pg_dump shows them.
func rawSecrets(t testing.TB, r *modelstest.App, id int64) map[string]string {
	t.Helper()
	var row struct{ Password, ClientKey, WsHeaders *string }
	if err := r.DB().Raw(`SELECT "password", "client_key", "ws_headers" FROM "mqtt_broker" WHERE "id" = ?`, id).Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, p := range map[string]*string{"password": row.Password, "client_key": row.ClientKey, "ws_headers": row.WsHeaders} {
		if p != nil {
			out[name] = *p
		}
	}
	return out
}

// secretBroker creates a committed broker with every secret set, and
// returns its id and the plaintexts.
func secretBroker(t testing.TB, r *modelstest.App, name string) (int64, map[string]string) {
	t.Helper()
	certPEM, keyPEM := clientPair(t)
	plain := map[string]string{"password": "pw-" + name, "client_key": keyPEM, "ws_headers": "Authorization: Bearer " + name}
	id := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": name, "url_scheme": "ssl://", "port": "8883",
		"password": plain["password"], "client_cert": certPEM, "client_key": keyPEM, "ws_headers": plain["ws_headers"]}).(int64)
	return id, plain
}

// assertSealed fails unless every secret column holds a value sealed
// with the key kid, and none holds its plaintext.
func assertSealed(t testing.TB, raw, plain map[string]string, kid string) {
	t.Helper()
	for _, col := range secretCols {
		v := raw[col]
		if !strings.HasPrefix(v, "$aesgcm1$"+kid+"$") {
			t.Errorf("%s at rest = %.40q..., want sealed with key %s", col, v, kid)
		}
		if p := plain[col]; p != "" && (strings.Contains(v, p) || strings.Contains(v, "Bearer") || strings.Contains(v, "PRIVATE KEY")) {
			t.Errorf("%s at rest holds its plaintext", col)
		}
	}
}

// TestSecretsEncryptedAtRest: the broker's password, TLS client key and
// websocket headers are stored encrypted with the server key (issue 9
// item 11), and the listener gets them back in clear.
func TestSecretsEncryptedAtRest(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		id, plain := secretBroker(t, r, "at-rest")
		assertSealed(t, rawSecrets(t, r, id), plain, modelstest.TestKeyring().Current().ID())
		cfg := brokerConfig(t, r, id)
		if cfg.Password != plain["password"] || cfg.ClientKey != plain["client_key"] || cfg.WSHeaders["Authorization"] != "Bearer at-rest" || cfg.SecretError != nil {
			t.Errorf("listener config: password %q, key set %v, headers %v, error %v", cfg.Password, cfg.ClientKey != "", cfg.WSHeaders, cfg.SecretError)
		}
		// Each write seals anew (a fresh nonce): equal secrets do not show
		// as equal at rest.
		other, _ := secretBroker(t, r, "at-rest")
		if a, b := rawSecrets(t, r, id)["password"], rawSecrets(t, r, other)["password"]; a == b {
			t.Errorf("two equal passwords stored alike: %q", a)
		}
		// A sealed value moved into another broker's column (by someone
		// with write access to the database) still opens: the binding is
		// to the column, not the row. Moved into another column, it does
		// not.
		if err := r.DB().Exec(`UPDATE "mqtt_broker" SET "client_key" = "password" WHERE "id" = ?`, other).Error; err != nil {
			t.Fatal(err)
		}
		if cfg := brokerConfig(t, r, other); cfg.SecretError == nil || cfg.ClientKey != "" {
			t.Errorf("a password moved into client_key opened: key %q, error %v", cfg.ClientKey, cfg.SecretError)
		}
	})
}

// TestSecretsWithoutTheKey: a database opened with another key (a copy
// taken without the key file) yields no secret: the listener gets a clear
// error for that broker and no password, the other brokers and the rest
// of the broker work, and a secret entered again is usable.
func TestSecretsWithoutTheKey(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			dsn := modelstest.DSN(t, kind)
			original := modelstest.Open(t, dsn)
			id, _ := secretBroker(t, original, "copied")
			plainID := exec(t, original, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "no secrets"}).(int64)

			wrong := newKeyring(t)
			copied := modelstest.Open(t, dsn, modelstest.Options{Cipher: wrong})
			cfgs, err := copied.MQTT.BrokerConfigs(context.Background())
			if err != nil || len(cfgs) != 2 {
				t.Fatalf("BrokerConfigs = %d, %v", len(cfgs), err)
			}
			cfg := brokerConfig(t, copied, id)
			if cfg.Password != "" || cfg.ClientKey != "" || len(cfg.WSHeaders) != 0 {
				t.Errorf("secrets without the key: password %q, key %q, headers %v", cfg.Password, cfg.ClientKey, cfg.WSHeaders)
			}
			msg := ""
			if cfg.SecretError != nil {
				msg = cfg.SecretError.Error()
			}
			for _, part := range []string{`broker "copied"`, "Password", "cannot be decrypted", modelstest.TestKeyring().Current().ID(), wrong.Current().ID(), "restore"} {
				if !strings.Contains(msg, part) {
					t.Errorf("secret error %q does not say %q", msg, part)
				}
			}
			if !errors.Is(cfg.SecretError, keyring.ErrUnknownKey) {
				t.Errorf("secret error %v is not ErrUnknownKey", cfg.SecretError)
			}
			if c := brokerConfig(t, copied, plainID); c.SecretError != nil {
				t.Errorf("broker without secrets: %v", c.SecretError)
			}
			// The broker stays editable; a password entered again is
			// sealed with the new key and usable.
			exec(t, copied, models.AdminUID, "mqtt.broker", "write", []any{id}, map[string]any{"name": "copied", "keepalive": int64(30)})
			exec(t, copied, models.AdminUID, "mqtt.broker", "write", []any{id}, map[string]any{"password": "entered-again"})
			cfg = brokerConfig(t, copied, id)
			if cfg.Password != "entered-again" || cfg.SecretError == nil || strings.Contains(cfg.SecretError.Error(), "Password") {
				t.Errorf("after entering the password again: %q, error %v (the key and headers are still unreadable)", cfg.Password, cfg.SecretError)
			}
			// check_connection answers the clear error, and does not try
			// to connect without the secrets.
			ctl := &modelstest.Control{}
			withCtl := modelstest.Open(t, dsn, modelstest.Options{Cipher: wrong, Control: func() mqtt.BrokerControl { return ctl }})
			_, err = withCtl.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "mqtt.broker", Method: "check_connection", Args: []any{[]any{id}}})
			if models.KindOf(err) != models.KindUser || !strings.Contains(err.Error(), "cannot be decrypted") {
				t.Errorf("check_connection without the key: %v", err)
			}
			if ctl.Checked != 0 {
				t.Errorf("check_connection tried to connect without the secrets")
			}
			if msg := exec(t, withCtl, models.AdminUID, "mqtt.broker", "read", []any{id}, []any{"connection_message"}).([]*models.Dict)[0]; !strings.Contains(fmtGet(msg, "connection_message"), "cannot be decrypted") {
				t.Errorf("connection_message %v", msg)
			}
		})
	}
}

// TestSecretsPlaintextEncryptedAtStart: secrets written before encryption
// (plaintext columns) are encrypted when the server starts, and still
// read back.
func TestSecretsPlaintextEncryptedAtStart(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			dsn := modelstest.DSN(t, kind)
			before := modelstest.Open(t, dsn)
			id, plain := secretBroker(t, before, "legacy")
			if err := before.DB().Exec(`UPDATE "mqtt_broker" SET "password" = ?, "client_key" = ?, "ws_headers" = ? WHERE "id" = ?`,
				plain["password"], plain["client_key"], plain["ws_headers"], id).Error; err != nil {
				t.Fatal(err)
			}
			if raw := rawSecrets(t, before, id); raw["password"] != plain["password"] {
				t.Fatalf("setup: password at rest %q", raw["password"])
			}
			after := modelstest.Open(t, dsn) // the next start
			assertSealed(t, rawSecrets(t, after, id), plain, modelstest.TestKeyring().Current().ID())
			if cfg := brokerConfig(t, after, id); cfg.Password != plain["password"] || cfg.ClientKey != plain["client_key"] || cfg.SecretError != nil {
				t.Errorf("after encryption at start: password %q, error %v", cfg.Password, cfg.SecretError)
			}
		})
	}
}

// TestResealSecrets: rotation re-encrypts every secret with the new key in
// one transaction, after which the old key is not needed; a secret that
// no key opens stops the rotation with nothing changed.
func TestResealSecrets(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			dsn := modelstest.DSN(t, kind)
			oldKR := newKeyring(t)
			first := modelstest.Open(t, dsn, modelstest.Options{Cipher: oldKR})
			id, plain := secretBroker(t, first, "rotated")

			next, err := keyring.NewKey()
			if err != nil {
				t.Fatal(err)
			}
			rotating := modelstest.Open(t, dsn, modelstest.Options{Cipher: oldKR.WithCurrent(next)})
			rep, err := rotating.ResealSecrets(context.Background())
			if err != nil || rep.Sealed != len(secretCols) || len(rep.Unreadable) != 0 {
				t.Fatalf("ResealSecrets = %+v, %v; want %d sealed", rep, err, len(secretCols))
			}
			onlyNew, _ := keyring.New("the new key", next)
			after := modelstest.Open(t, dsn, modelstest.Options{Cipher: onlyNew})
			assertSealed(t, rawSecrets(t, after, id), plain, next.ID())
			if cfg := brokerConfig(t, after, id); cfg.Password != plain["password"] || cfg.SecretError != nil {
				t.Errorf("with the new key only: password %q, error %v", cfg.Password, cfg.SecretError)
			}

			// A secret under a key nobody has: nothing changes.
			lost := newKeyring(t)
			strayID, _ := secretBroker(t, modelstest.Open(t, dsn, modelstest.Options{Cipher: lost}), "stray")
			before := rawSecrets(t, after, id)
			third, _ := keyring.NewKey()
			again := modelstest.Open(t, dsn, modelstest.Options{Cipher: onlyNew.WithCurrent(third)})
			if _, err := again.ResealSecrets(context.Background()); err == nil || !strings.Contains(err.Error(), "mqtt.broker("+itoa(strayID)+").password") ||
				!strings.Contains(err.Error(), lost.Current().ID()) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("rotation over an unreadable secret: %v", err)
			}
			if got := rawSecrets(t, after, id); got["password"] != before["password"] {
				t.Errorf("a failed rotation changed a secret")
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// fmtGet is a dict's value as text.
func fmtGet(d *models.Dict, key string) string {
	v, _ := d.Get(key)
	s, _ := v.(string)
	return s
}
