package models

import (
	"context"
	"strings"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/keyring"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/internal/testdb"
)

// vaultModel is a model with secrets the server must read back: token is
// sent to url (so a changed url clears it), note is not bound to anything.
func vaultModel() *Model {
	return &Model{
		Name: "test.vault", Description: "Vault",
		Fields: []*Field{
			{Name: "name", Type: Char},
			{Name: "url", Type: Char},
			{Name: "port", Type: Integer},
			{Name: "token", Type: Char, Secret: true, Encrypted: true, ClearOnChange: []string{"url", "port"}},
			{Name: "note", Type: Text, Secret: true, Encrypted: true},
		},
		Access: map[string]string{GroupUser: "rwcu"},
	}
}

func testKeyring(t testing.TB) *keyring.Keyring {
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

// vaultRaw is a vault row's secret columns as stored.
func vaultRaw(t testing.TB, env *Env, id int64) (token, note string) {
	t.Helper()
	var row struct{ Token, Note *string }
	if err := env.DB().Raw(`SELECT "token", "note" FROM "test_vault" WHERE "id" = ?`, id).Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.Token != nil {
		token = *row.Token
	}
	if row.Note != nil {
		note = *row.Note
	}
	return
}

// loadVault loads one vault row as addons do.
func loadVault(t testing.TB, env *Env, id int64) *Record {
	t.Helper()
	recs, err := env.Load(env.reg.Model("test.vault"), []int64{id})
	if err != nil || len(recs) != 1 {
		t.Fatalf("load vault %d: %v, %v", id, recs, err)
	}
	return recs[0]
}

// TestEngineEncryptedFields: Encrypted fields reach the database sealed
// by the registry's cipher through every write path (create, write,
// SetColumns), load back in clear, never leave through read, and load
// empty with a LoadError under another key.
func TestEngineEncryptedFields(t *testing.T) {
	for _, kind := range testdb.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			kr := testKeyring(t)
			dsn := testdb.DSN(t, kind)
			r := openRegistry(t, dsn, Options{Cipher: kr}, testAddon{[]*Model{vaultModel()}})
			ctx := context.Background()
			if err := r.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Init(ctx, "admin"); err != nil {
				t.Fatal(err)
			}
			var id int64
			err := r.Transaction(ctx, AdminUID, nil, func(env *Env) error {
				var err error
				id, err = env.Create(r.Model("test.vault"), map[string]any{"name": "v", "url": "https://a", "token": "tok-0", "note": "note-0"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			env := r.testEnv(t)
			sealedPrefix := "$aesgcm1$" + kr.Current().ID() + "$"
			tok, note := vaultRaw(t, env, id)
			if !strings.HasPrefix(tok, sealedPrefix) || !strings.HasPrefix(note, sealedPrefix) || strings.Contains(tok+note, "tok-0") {
				t.Errorf("at rest after create: %q, %q", tok, note)
			}
			if rec := loadVault(t, env, id); rec.Str("token") != "tok-0" || rec.Str("note") != "note-0" || rec.LoadError("token") != nil {
				t.Errorf("loaded: %q, %q, %v", rec.Str("token"), rec.Str("note"), rec.LoadError("token"))
			}
			if got := readOne(t, env, "test.vault", id, "token", "note"); got["token"] != false || got["note"] != false {
				t.Errorf("read returned a secret: %v", got)
			}
			if err := env.Write(r.Model("test.vault"), []int64{id}, map[string]any{"note": "note-1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := env.SetColumns(r.Model("test.vault"), []int64{id}, map[string]any{"token": "tok-1"}); err != nil {
				t.Fatal(err)
			}
			tok, note = vaultRaw(t, env, id)
			if !strings.HasPrefix(tok, sealedPrefix) || !strings.HasPrefix(note, sealedPrefix) || strings.Contains(tok+note, "-1") {
				t.Errorf("at rest after write and SetColumns: %q, %q", tok, note)
			}
			if rec := loadVault(t, env, id); rec.Str("token") != "tok-1" || rec.Str("note") != "note-1" {
				t.Errorf("loaded after write: %q, %q", rec.Str("token"), rec.Str("note"))
			}
			if _, err := r.Bulk("test.vault", "name", "token"); err == nil {
				t.Errorf("a bulk insert of an encrypted field was prepared")
			}

			// The same database under another key.
			other := openRegistry(t, dsn, Options{Cipher: testKeyring(t)}, testAddon{[]*Model{vaultModel()}})
			var rec *Record
			// Outside a transaction: env above holds SQLite's write lock.
			_ = other.Read(ctx, Superuser, nil, func(env *Env) error { rec = loadVault(t, env.Sudo(), id); return nil })
			if rec.Str("token") != "" || rec.Get("token") != nil {
				t.Errorf("token under another key: %q", rec.Str("token"))
			}
			if err := rec.LoadError("token"); err == nil || !strings.Contains(err.Error(), "Token cannot be decrypted") || !strings.Contains(err.Error(), kr.Current().ID()) {
				t.Errorf("LoadError = %v", err)
			}
			if rec.Str("name") != "v" || rec.LoadError("name") != nil {
				t.Errorf("the rest of the record: %q, %v", rec.Str("name"), rec.LoadError("name"))
			}
		})
	}
}

// TestEngineClearOnChange: a write that changes a field named in a
// secret's ClearOnChange, on a record, clears the secret there unless the
// write gives it; writing the stored value again is no change, and the
// Changed hook is told of the cleared field.
func TestEngineClearOnChange(t *testing.T) {
	for _, kind := range testdb.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			var told [][]string
			m := vaultModel()
			m.Changed = func(env *Env, ids []int64, names []string, deleted bool) { told = append(told, names) }
			r := newRegistryWith(t, kind, Options{Cipher: testKeyring(t)}, testAddon{[]*Model{m}})
			env := r.testEnv(t)
			vm := r.Model("test.vault")
			mk := func(url string) int64 {
				return env.mustCreate(t, "test.vault", map[string]any{"name": "v", "url": url, "port": int64(443), "token": "tok", "note": "keep"})
			}
			cases := []struct {
				name      string
				urls      []string // one record per url
				write     map[string]any
				wantToken []string // per record
				cleared   bool     // the Changed hook hears of token
			}{
				{"url changed", []string{"https://a"}, map[string]any{"url": "https://b"}, []string{""}, true},
				{"port changed", []string{"https://a"}, map[string]any{"port": int64(8443)}, []string{""}, true},
				{"url changed, token given", []string{"https://a"}, map[string]any{"url": "https://b", "token": "new"}, []string{"new"}, true},
				{"same url and port again", []string{"https://a"}, map[string]any{"url": "https://a", "port": int64(443)}, []string{"tok"}, false},
				{"other field", []string{"https://a"}, map[string]any{"name": "w"}, []string{"tok"}, false},
				{"url cleared", []string{"https://a"}, map[string]any{"url": false}, []string{""}, true},
				{"two records, one already there", []string{"https://a", "https://b"}, map[string]any{"url": "https://b"}, []string{"", "tok"}, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var ids []int64
					for _, u := range c.urls {
						ids = append(ids, mk(u))
					}
					told = nil
					if err := env.Write(vm, ids, c.write); err != nil {
						t.Fatal(err)
					}
					for i, id := range ids {
						rec := loadVault(t, env, id)
						if rec.Str("token") != c.wantToken[i] || rec.Str("note") != "keep" {
							t.Errorf("record %d: token %q, note %q; want token %q, note kept", i, rec.Str("token"), rec.Str("note"), c.wantToken[i])
						}
					}
					heard := false
					for _, n := range told[len(told)-1] {
						heard = heard || n == "token"
					}
					if heard != c.cleared {
						t.Errorf("Changed heard of token: %v, want %v (names %v)", heard, c.cleared, told[len(told)-1])
					}
				})
			}
		})
	}
}

// TestEngineSecretDeclarations: Encrypted and ClearOnChange are checked at
// start.
func TestEngineSecretDeclarations(t *testing.T) {
	cases := map[string]*Field{
		"Encrypted needs a stored, Secret char or text":                       {Name: "x", Type: Char, Encrypted: true},
		"Encrypted needs a stored, Secret char or text field that is neither": {Name: "x", Type: Integer, Secret: true, Encrypted: true},
		"ClearOnChange \"nope\" is not another stored field":                  {Name: "x", Type: Char, ClearOnChange: []string{"nope"}},
		"ClearOnChange needs a stored field that is not required":             {Name: "x", Type: Char, Required: true, ClearOnChange: []string{"name"}},
	}
	for want, f := range cases {
		m := &Model{Name: "test.bad", Fields: []*Field{{Name: "name", Type: Char}, f}}
		_, err := New(Options{}, testAddon{[]*Model{m}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want an error containing %q", f, err, want)
		}
	}
}
