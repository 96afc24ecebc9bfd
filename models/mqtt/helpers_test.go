package mqtt_test

// Test helpers of the addon's suite, in one place. Names:
//   forEachDB(t, fn, opts...)     runs fn on SQLite and on PostgreSQL (CI: required)
//   testEnv(t, r)                 superuser env in a transaction rolled back at the end
//   userEnv(t, r, uid)            same for a given user (access checks apply)
//   mustCreate(t, env, model, vals), tcreate(env, model, vals)
//   tsearch(env, model, domain, offset, limit, order)
//   call(env, model, method, args, kwargs) with RPC argument binding

import (
	"context"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
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
