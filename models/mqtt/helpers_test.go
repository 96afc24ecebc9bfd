package mqtt_test

// Test helpers of the addon's suite, in one place. Names:
//   forEachDB(t, fn, opts...)     runs fn on SQLite and on PostgreSQL (CI: required)
//   testEnv(t, r)                 superuser env in a transaction rolled back at the end
//   userEnv(t, r, uid)            same for a given user (access checks apply)
//   mustCreate(t, env, model, vals), tcreate(env, model, vals)
//   tsearch(env, model, domain, offset, limit, order)
//   call(env, model, method, args, kwargs) with RPC argument binding
//   exec(t, r, uid, model, method, args...) one committed RPC call
//   newUserIn(t, r, login, pw, group)     a committed user of one group
//   brokerConfig(t, r, id)        the listener's view of a broker, secrets included
//   clientPair(t)                 a TLS client certificate and key (PEM)

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// forEachDB runs fn as a subtest per database kind, on a registry built
// with opts.
func forEachDB(t *testing.T, fn func(t *testing.T, r *modelstest.App), opts ...modelstest.Options) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) { fn(t, modelstest.NewFor(t, kind, opts...)) })
	}
}

func newTestRegistry(t *testing.T, opts ...modelstest.Options) *modelstest.App {
	return modelstest.New(t, opts...)
}

// testEnv is a superuser env in a transaction rolled back when the test ends.
func testEnv(t testing.TB, r *modelstest.App) *models.Env {
	t.Helper()
	return userEnv(t, r, models.Superuser).Sudo()
}

// userEnv opens a transaction as uid that is rolled back when the test ends.
func userEnv(t testing.TB, r *modelstest.App, uid int64) *models.Env {
	t.Helper()
	env, end, err := r.Begin(context.Background(), uid)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	t.Cleanup(func() { _ = end(false) })
	return env
}

func tcreate(env *models.Env, model string, vals map[string]any) (int64, error) {
	return env.Create(env.Registry().Model(model), vals)
}

func mustCreate(t testing.TB, env *models.Env, model string, vals map[string]any) int64 {
	t.Helper()
	id, err := tcreate(env, model, vals)
	if err != nil {
		t.Fatalf("create %s %v: %v", model, vals, err)
	}
	return id
}

func tsearch(env *models.Env, model string, domain any, offset, limit int, order string) ([]int64, error) {
	dom, _ := domain.([]any)
	return env.Search(env.Registry().Model(model), dom, int64(offset), int64(limit), order)
}

// call runs a method with RPC argument binding inside the env's transaction.
func call(env *models.Env, model, method string, args []any, kwargs map[string]any) (any, error) {
	return env.Call(env.Registry().Model(model), method, args, kwargs)
}

// exec runs one RPC call as uid, committed, and fails the test on error.
func exec(t testing.TB, r *modelstest.App, uid int64, model, method string, args ...any) any {
	t.Helper()
	res, err := r.Execute(context.Background(), models.Call{UID: uid, Model: model, Method: method, Args: args})
	if err != nil {
		t.Fatalf("%s.%s%v: %v", model, method, args, err)
	}
	return res
}

// newUserIn creates a committed user with password pw in the group of
// xml id group, and returns its id.
func newUserIn(t testing.TB, r *modelstest.App, login, pw, group string) int64 {
	t.Helper()
	gids := exec(t, r, models.AdminUID, "res.groups", "search", []any{[]any{"xml_id", "=", group}}).([]int64)
	return exec(t, r, models.AdminUID, "res.users", "create", map[string]any{
		"name": login, "login": login, "password": pw, "groups_id": []any{[]any{int64(6), int64(0), []any{gids[0]}}}}).(int64)
}

// brokerConfig is the listener's view of one broker: what the daemons
// connect with, secrets included (read never returns them).
func brokerConfig(t testing.TB, r *modelstest.App, id int64) mqtt.BrokerConfig {
	t.Helper()
	cfgs, err := r.MQTT.BrokerConfigs(context.Background(), id)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("BrokerConfigs(%d) = %v, %v", id, cfgs, err)
	}
	return cfgs[0]
}

// clientPair is a self-signed TLS client certificate and its private key,
// in PEM.
func clientPair(t testing.TB) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "plant-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}
